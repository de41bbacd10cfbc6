//! The OPNsense MCP tool catalogue (work in progress).

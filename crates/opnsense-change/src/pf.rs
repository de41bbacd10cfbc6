//! Evaluates OPNsense filter rules against one flow, the way pf does (pure, no I/O).

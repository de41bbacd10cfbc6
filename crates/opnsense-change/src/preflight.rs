//! The lockout pre-flight: would the staged rules cut this server (or a protected flow) off?

//! Gathers what the lockout pre-flight needs from the firewall (the staged rules, aliases,
//! interfaces, port forwards, this server's own path) and runs [`crate::preflight`].

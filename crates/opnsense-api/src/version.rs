//! The firewall's firmware version, and the behaviour that depends on it.

use std::fmt;

use serde_json::Value;

/// An OPNsense firmware version such as `26.1.10` (a `_N` hotfix suffix is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FirmwareVersion {
    /// Year (e.g. 26).
    pub major: u16,
    /// Series within the year: 1 (January) or 7 (July).
    pub minor: u16,
    /// Update within the series.
    pub patch: u16,
}

impl FirmwareVersion {
    /// Builds a version.
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses `26.1`, `26.1.10`, `26.1.10_2`, `26.7.2-amd64`; `None` if it is not a version.
    pub fn parse(s: &str) -> Option<Self> {
        let core = s.trim().split(['_', '-', ' ']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self::new(major, minor, patch))
    }

    /// Reads `product.product_version` (or top-level `product_version`) of a `core/firmware/status` answer.
    pub fn from_firmware_status(v: &Value) -> Option<Self> {
        v.pointer("/product/product_version")
            .or_else(|| v.get("product_version"))
            .and_then(Value::as_str)
            .and_then(Self::parse)
    }

    /// Firewall `savepoint`, `apply/{rev}`, `cancelRollback` and `revert` exist (removed in 26.7).
    pub fn has_filter_rollback(self) -> bool {
        self < Self::new(26, 7, 0)
    }

    /// Static routes carry `enabled` (26.1.10+) rather than `disabled` (26.1.0 to 26.1.9).
    pub fn routes_use_enabled(self) -> bool {
        self >= Self::new(26, 1, 10)
    }
}

impl fmt::Display for FirmwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_versions() {
        assert_eq!(
            FirmwareVersion::parse("26.1.10"),
            Some(FirmwareVersion::new(26, 1, 10))
        );
        assert_eq!(
            FirmwareVersion::parse("26.1.10_2"),
            Some(FirmwareVersion::new(26, 1, 10))
        );
        assert_eq!(
            FirmwareVersion::parse("26.7"),
            Some(FirmwareVersion::new(26, 7, 0))
        );
        assert_eq!(FirmwareVersion::parse("banana"), None);
        assert_eq!(FirmwareVersion::parse("1.2.3.4"), None);
    }

    #[test]
    fn features_by_version() {
        assert!(FirmwareVersion::new(26, 1, 10).has_filter_rollback());
        assert!(!FirmwareVersion::new(26, 7, 2).has_filter_rollback());
        assert!(!FirmwareVersion::new(26, 1, 9).routes_use_enabled());
        assert!(FirmwareVersion::new(26, 1, 10).routes_use_enabled());
    }

    #[test]
    fn reads_firmware_status() {
        let v = json!({"product": {"product_version": "26.1.10"}, "status": "none"});
        assert_eq!(
            FirmwareVersion::from_firmware_status(&v),
            Some(FirmwareVersion::new(26, 1, 10))
        );
        assert_eq!(
            FirmwareVersion::from_firmware_status(&json!({"status": "error"})),
            None
        );
    }
}

//! The firewall's firmware version, and every behaviour that depends on it.
//!
//! Each version quirk the SDK knows is one [`Quirk`], with the first release that has it; all
//! version checks go through [`FirmwareVersion::has`], so a quirk is declared (and tested on both
//! sides of its boundary) in exactly one place.

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

/// A behaviour that changed between OPNsense releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quirk {
    /// 26.7 removed `firewall/filter/savepoint`, `apply/{revision}`, `cancelRollback` and
    /// `revert` (core commit 17b84612eb). Present *before* [`Quirk::since`].
    NoFilterRollback,
    /// 26.1.10 replaced the static route field `disabled` by `enabled`, and the argument of
    /// `routes/routes/toggleroute/{uuid}/{x}` changed meaning from "disabled" to "enabled"
    /// (core commit 3acfb5f2a7).
    RouteEnabledField,
    /// 26.7 escapes the JSON of error replies with `htmlspecialchars(…, ENT_NOQUOTES)` and adds
    /// `errorLevel` (`src/opnsense/www/api.php`).
    EscapedErrorReplies,
    /// 26.7 names OPNsense's automatic destination-NAT rows `automatic_pf_N` with
    /// `"is_automatic": true` (26.1: `lockout_N`).
    AutomaticNatRowsFlagged,
    /// 26.1.8 added the Kea reservation `client_id` field.
    KeaReservationClientId,
    /// 26.1.11 moved the outbound NAT mode into the API (`firewall/source_nat/get`,
    /// `filter.general.snat_mode`; `FieldTypes/SNatModeField.php`), made the rule search and pf
    /// follow it (outbound NAT rules are loaded only in hybrid and manual mode, `pf.inc`), and
    /// gave the rules `nosync`, `tag` and an optional `target` (`Filter.xml` model 1.0.5).
    /// Before it, every enabled rule is loaded whatever the mode.
    SourceNatMode,
    /// 26.7.2 added the outbound NAT rule field `endpoint-independent` (UDP only; `Filter.xml`,
    /// `Filter.php:172`).
    SourceNatEndpointIndependent,
}

impl Quirk {
    /// Every quirk, for tests and documentation.
    pub const ALL: &'static [Quirk] = &[
        Quirk::NoFilterRollback,
        Quirk::RouteEnabledField,
        Quirk::EscapedErrorReplies,
        Quirk::AutomaticNatRowsFlagged,
        Quirk::KeaReservationClientId,
        Quirk::SourceNatMode,
        Quirk::SourceNatEndpointIndependent,
    ];

    /// The first release with this behaviour.
    pub const fn since(self) -> FirmwareVersion {
        match self {
            Quirk::NoFilterRollback
            | Quirk::EscapedErrorReplies
            | Quirk::AutomaticNatRowsFlagged => FirmwareVersion::new(26, 7, 0),
            Quirk::RouteEnabledField => FirmwareVersion::new(26, 1, 10),
            Quirk::KeaReservationClientId => FirmwareVersion::new(26, 1, 8),
            Quirk::SourceNatMode => FirmwareVersion::new(26, 1, 11),
            Quirk::SourceNatEndpointIndependent => FirmwareVersion::new(26, 7, 2),
        }
    }
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

    /// Whether this release behaves as `quirk` describes.
    pub fn has(self, quirk: Quirk) -> bool {
        self >= quirk.since()
    }

    /// Firewall `savepoint`, `apply/{rev}`, `cancelRollback` and `revert` exist (removed in 26.7).
    pub fn has_filter_rollback(self) -> bool {
        !self.has(Quirk::NoFilterRollback)
    }

    /// Static routes carry `enabled` (26.1.10+) rather than `disabled` (26.1.0 to 26.1.9).
    pub fn routes_use_enabled(self) -> bool {
        self.has(Quirk::RouteEnabledField)
    }
}

/// [`FirmwareVersion::has`] for a version that may be unknown: an unknown firmware is assumed to
/// behave like the newest release.
pub fn has(version: Option<FirmwareVersion>, quirk: Quirk) -> bool {
    version.is_none_or(|v| v.has(quirk))
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

    /// Every quirk is tested on both sides of its boundary: the release before `since` lacks it,
    /// `since` and later have it, and an unknown version is treated as the newest.
    #[test]
    fn every_quirk_on_both_sides_of_its_boundary() {
        let before = |v: FirmwareVersion| match v.patch {
            0 if v.minor == 7 => FirmwareVersion::new(v.major, 1, 99),
            0 => FirmwareVersion::new(v.major - 1, 7, 99),
            p => FirmwareVersion::new(v.major, v.minor, p - 1),
        };
        for &q in Quirk::ALL {
            let since = q.since();
            assert!(!before(since).has(q), "{q:?} before {since}");
            assert!(since.has(q), "{q:?} at {since}");
            assert!(
                FirmwareVersion::new(since.major, since.minor, since.patch + 1).has(q),
                "{q:?} after {since}"
            );
            assert!(has(None, q), "{q:?} unknown version");
        }
        // The boundaries themselves, as documented.
        assert!(FirmwareVersion::new(26, 1, 11).has_filter_rollback());
        assert!(!FirmwareVersion::new(26, 7, 0).has_filter_rollback());
        assert!(!FirmwareVersion::new(26, 1, 9).routes_use_enabled());
        assert!(FirmwareVersion::new(26, 1, 10).routes_use_enabled());
        assert!(!FirmwareVersion::new(26, 1, 7).has(Quirk::KeaReservationClientId));
        assert!(FirmwareVersion::new(26, 1, 8).has(Quirk::KeaReservationClientId));
        assert!(!FirmwareVersion::new(26, 1, 11).has(Quirk::EscapedErrorReplies));
        assert!(FirmwareVersion::new(26, 7, 2).has(Quirk::AutomaticNatRowsFlagged));
        assert!(!FirmwareVersion::new(26, 1, 10).has(Quirk::SourceNatMode));
        assert!(FirmwareVersion::new(26, 1, 11).has(Quirk::SourceNatMode));
        assert!(FirmwareVersion::new(26, 7, 0).has(Quirk::SourceNatMode));
        assert!(!FirmwareVersion::new(26, 7, 1).has(Quirk::SourceNatEndpointIndependent));
        assert!(FirmwareVersion::new(26, 7, 2).has(Quirk::SourceNatEndpointIndependent));
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

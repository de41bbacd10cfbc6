//! What a tool does to the firewall, and so its annotation hints: a tool's `#[tool]` attribute
//! gives only its title, and its verb (read, add, update, delete, apply, act) follows from its
//! name, as the reference server names its tools (`<area>_list`, `<area>_add`, ...). The hints
//! are filled in here, in one place, when the catalogue is built ([`annotate`]).

use rmcp::model::{Tool, ToolAnnotations};

/// What a tool does to the firewall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Only reads.
    Read,
    /// Creates a record: a repeat creates another one.
    Add,
    /// Sets fields or a state and takes nothing away: a repeat changes nothing (an update, a
    /// change confirmed, a service started).
    Update,
    /// Removes a record: a repeat changes nothing more.
    Delete,
    /// Makes a state live, replacing what runs (staged changes applied, a backup restored, a
    /// service stopped): it can cut access, a repeat changes nothing more.
    Apply,
    /// Acts again on every call and may interrupt (a service restarted, a change rolled back).
    Action,
}

/// Exact names first: tools whose last word does not say what they do.
const EXACT: [(&str, Verb); 13] = [
    ("firewall_log", Verb::Read),
    ("firewall_states", Verb::Read),
    ("firewall_audit", Verb::Read),
    ("firewall_alias_get_uuid", Verb::Read),
    ("interface_config", Verb::Read),
    ("system_config_backup", Verb::Read),
    ("system_backup_diff", Verb::Read),
    ("change_confirm", Verb::Update),
    ("service_start", Verb::Update),
    ("service_stop", Verb::Apply),
    ("system_backup_restore", Verb::Apply),
    ("service_restart", Verb::Action),
    ("change_rollback", Verb::Action),
];

/// Then the last word of the name.
const ENDINGS: [(&str, Verb); 8] = [
    ("_list", Verb::Read),
    ("_get", Verb::Read),
    ("_status", Verb::Read),
    ("_table", Verb::Read),
    ("_add", Verb::Add),
    ("_update", Verb::Update),
    ("_delete", Verb::Delete),
    ("_apply", Verb::Apply),
];

impl Verb {
    /// The verb of the tool `name`; `None` for a name no rule covers (a catalogue test checks
    /// that every tool has one).
    pub fn of(name: &str) -> Option<Verb> {
        EXACT
            .iter()
            .find(|(exact, _)| *exact == name)
            .or_else(|| ENDINGS.iter().find(|(ending, _)| name.ends_with(ending)))
            .map(|(_, verb)| *verb)
    }

    /// The hints `(read_only, destructive, idempotent)`; a read gives only the first (the
    /// others mean nothing for it). No tool reaches beyond the firewall (`openWorldHint:
    /// false`).
    pub fn hints(self) -> (bool, Option<bool>, Option<bool>) {
        match self {
            Verb::Read => (true, None, None),
            Verb::Add => (false, Some(false), Some(false)),
            Verb::Update => (false, Some(false), Some(true)),
            Verb::Delete | Verb::Apply => (false, Some(true), Some(true)),
            Verb::Action => (false, Some(true), Some(false)),
        }
    }

    /// The annotations of a tool with this verb and `title`.
    pub fn annotations(self, title: Option<String>) -> ToolAnnotations {
        let (read_only, destructive, idempotent) = self.hints();
        ToolAnnotations::from_raw(title, Some(read_only), destructive, idempotent, Some(false))
    }
}

/// Fills a tool's hints from its verb, keeping its title. A name no rule covers is taken for
/// the most cautious verb ([`Verb::Action`]: a write, never offered read-only).
pub fn annotate(tool: &mut Tool) {
    let verb = Verb::of(&tool.name).unwrap_or(Verb::Action);
    let title = tool.annotations.take().and_then(|a| a.title);
    tool.annotations = Some(verb.annotations(title));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_win_over_endings_and_unknown_names_have_none() {
        assert_eq!(Verb::of("route_list"), Some(Verb::Read));
        assert_eq!(Verb::of("route_add"), Some(Verb::Add));
        assert_eq!(Verb::of("service_stop"), Some(Verb::Apply));
        assert_eq!(Verb::of("system_backup_diff"), Some(Verb::Read));
        assert_eq!(Verb::of("firewall_rule_toggle"), None);
        let mut t = Tool::new("firewall_rule_toggle", "x", std::sync::Arc::default());
        t.annotations = Some(ToolAnnotations::with_title("Toggle"));
        annotate(&mut t);
        let a = t.annotations.expect("annotations");
        assert_eq!(a.title.as_deref(), Some("Toggle"));
        assert_eq!(
            (a.read_only_hint, a.destructive_hint, a.idempotent_hint),
            (Some(false), Some(true), Some(false))
        );
    }
}

//! What a rule does when it matches (issue #15), read from its tags so that it travels in the
//! rules file, is reviewed in the proposal's diff like any change, and stays valid Falco; and
//! what an alert says was done.

use serde::{Deserialize, Serialize};

/// Tag of a rule whose matches are recorded, not alerted.
pub const TAG_AUDIT: &str = "rulestudio.audit";
/// Tag of a rule in dry run: it alerts with `would_kill` / `would_deny` and acts on nothing.
pub const TAG_DRY_RUN: &str = "rulestudio.enforce.dry_run";
/// Tag of a rule that acts, on nodes started with `--enforce`.
pub const TAG_ENFORCE: &str = "rulestudio.enforce";

/// A rule's action. Rollout goes audit → alert → dry run → enforce, one rule at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Recorded, not alerted.
    Audit,
    /// Falco's behaviour: an alert.
    #[default]
    Alert,
    /// An alert saying what enforcement would have done.
    DryRun,
    /// Quarantine and kill the process (or deny its exec in the kernel).
    Enforce,
}

impl Action {
    /// The action a rule's tags give it. The dry-run tag wins over the enforce tag, so adding
    /// it to an enforce rule is always a step back; enforcement wins over audit, so an enforce
    /// rule is never silenced by a leftover audit tag.
    pub fn of_tags<S: AsRef<str>>(tags: &[S]) -> Action {
        let has = |t: &str| tags.iter().any(|x| x.as_ref() == t);
        if has(TAG_DRY_RUN) {
            Action::DryRun
        } else if has(TAG_ENFORCE) {
            Action::Enforce
        } else if has(TAG_AUDIT) {
            Action::Audit
        } else {
            Action::Alert
        }
    }

    /// The action of a compiled rule.
    pub fn of_rule(rule: &rulestudio_engine::eval::CompiledRule) -> Action {
        Action::of_tags(&rule.tags)
    }

    /// The spelling in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Audit => "audit",
            Action::Alert => "alert",
            Action::DryRun => "dry_run",
            Action::Enforce => "enforce",
        }
    }

    /// What the action does, in a few words for people.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Audit => "audit: stored, notifies nobody",
            Action::Alert => "alert",
            Action::DryRun => "dry run: alerts what it would stop",
            Action::Enforce => "enforce: stops the process on enforcing nodes",
        }
    }

    /// Whether the rule takes part in enforcement (acting or dry run): such rules are judged
    /// whatever `rule_matching` says.
    pub fn enforces(self) -> bool {
        matches!(self, Action::DryRun | Action::Enforce)
    }
}

/// What was done about an alert's process: the alert's `action` field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// Quarantined in the kernel and sent SIGKILL.
    Killed,
    /// Its exec was refused in the kernel before the new program ran.
    Denied,
    /// Quarantined in the kernel; the kill was not confirmed.
    Quarantined,
    /// Dry run (by the rule, the node, or the rule's cap): it would have been killed.
    WouldKill,
    /// Dry run of an exec the kernel would have refused.
    WouldDeny,
    #[default]
    None,
}

impl AlertAction {
    pub const ALL: [AlertAction; 6] = [
        AlertAction::Killed,
        AlertAction::Denied,
        AlertAction::Quarantined,
        AlertAction::WouldKill,
        AlertAction::WouldDeny,
        AlertAction::None,
    ];

    /// The spelling in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertAction::Killed => "killed",
            AlertAction::Denied => "denied",
            AlertAction::Quarantined => "quarantined",
            AlertAction::WouldKill => "would_kill",
            AlertAction::WouldDeny => "would_deny",
            AlertAction::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<AlertAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_give_the_action_with_dry_run_winning() {
        assert_eq!(Action::of_tags::<&str>(&[]), Action::Alert);
        assert_eq!(Action::of_tags(&["mitre", TAG_AUDIT]), Action::Audit);
        assert_eq!(Action::of_tags(&[TAG_ENFORCE]), Action::Enforce);
        assert_eq!(Action::of_tags(&[TAG_AUDIT, TAG_ENFORCE]), Action::Enforce);
        assert_eq!(Action::of_tags(&[TAG_ENFORCE, TAG_DRY_RUN]), Action::DryRun);
        // Near misses are ordinary tags.
        assert_eq!(
            Action::of_tags(&["rulestudio.enforce.dryrun", "Rulestudio.Enforce"]),
            Action::Alert
        );
        assert!(Action::DryRun.enforces() && Action::Enforce.enforces());
        assert!(!Action::Alert.enforces() && !Action::Audit.enforces());
    }

    #[test]
    fn alert_actions_spell_as_json_says() {
        for a in AlertAction::ALL {
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.as_str()));
            assert_eq!(AlertAction::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::from_str::<AlertAction>(&json).unwrap(), a);
        }
        assert_eq!(AlertAction::parse("kill"), None);
    }
}

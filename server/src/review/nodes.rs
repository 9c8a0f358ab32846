//! Nodes that could not compile what a proposal would make live. Each node compiles the live set
//! with its own engine and reports that engine's version in its heartbeats (`engine_version`);
//! an engine refuses rules files that declare a higher `required_engine_version` (or another
//! major version), exactly as Falco does, and the node then stays on its previous version. So a
//! promotion that would leave nodes behind is blocked, naming them, before it happens.

use crate::error::Result;
use crate::time::now_ns;
use rulestudio_engine::loader::parse_semver;
use sqlx::SqlitePool;

/// Nodes count while they report: a node silent for longer is gone (decommissioned or
/// replaced) and must not block the rest of the fleet.
const RECENT_NS: i64 = 10 * 60 * 1_000_000_000;

/// How many nodes a reason names before it counts the rest.
const NAMED: usize = 5;

/// The reason `required` (`x.y.z`) leaves reporting nodes unable to compile, or `None`.
pub async fn cannot_compile(db: &SqlitePool, required: Option<&str>) -> Result<Option<String>> {
    let Some(required) = required else {
        return Ok(None);
    };
    let Some(needs) = parse_semver(required) else {
        return Ok(None);
    };
    let nodes: Vec<(String, String)> = sqlx::query_as(
        "SELECT node, engine_version FROM collectors
         WHERE engine_version IS NOT NULL AND last_seen >= ? ORDER BY node",
    )
    .bind(now_ns() - RECENT_NS)
    .fetch_all(db)
    .await?;
    let behind: Vec<(String, String)> = nodes
        .into_iter()
        .filter(|(_, engine)| parse_semver(engine).is_some_and(|e| !accepts(e, needs)))
        .collect();
    Ok(reason(required, &behind))
}

/// Falco's rule: an engine loads files requiring the same major version, not newer.
fn accepts(engine: (u64, u64, u64), required: (u64, u64, u64)) -> bool {
    engine.0 == required.0 && engine >= required
}

fn reason(required: &str, behind: &[(String, String)]) -> Option<String> {
    if behind.is_empty() {
        return None;
    }
    let n = behind.len();
    let mut named: Vec<String> = behind
        .iter()
        .take(NAMED)
        .map(|(node, engine)| format!("`{node}` runs {engine}"))
        .collect();
    if n > NAMED {
        named.push(format!("{} more", n - NAMED));
    }
    let nodes = if n == 1 { "node" } else { "nodes" };
    Some(format!(
        "{n} {nodes} cannot compile this: the rules require engine version {required}, and {}",
        named.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_accepts_its_own_major_version_up_to_itself() {
        assert!(accepts((0, 63, 0), (0, 50, 0)));
        assert!(accepts((0, 63, 0), (0, 63, 0)));
        assert!(!accepts((0, 40, 0), (0, 50, 0)));
        assert!(!accepts((1, 0, 0), (0, 50, 0)));
    }

    #[test]
    fn a_reason_names_the_first_nodes_and_counts_the_rest() {
        assert_eq!(reason("0.50.0", &[]), None);
        let one = reason("0.50.0", &[("a".into(), "0.40.0".into())]).unwrap();
        assert_eq!(
            one,
            "1 node cannot compile this: the rules require engine version 0.50.0, and `a` runs 0.40.0"
        );
        let many: Vec<(String, String)> = (0..7)
            .map(|i| (format!("n{i}"), "0.40.0".to_string()))
            .collect();
        let text = reason("0.50.0", &many).unwrap();
        assert!(text.starts_with("7 nodes cannot compile this"), "{text}");
        assert!(text.contains("`n4` runs 0.40.0, 2 more"), "{text}");
        assert!(!text.contains("`n5`"), "{text}");
    }
}

//! `rulestudio serve` takes the collector's enforcement flags (issue #15), and only with the
//! collector that acts on them.

use std::process::Command;

#[test]
fn enforce_without_the_collector_is_refused_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rulestudio"))
        .args(["serve", "--listen", "127.0.0.1:0", "--enforce", "--db"])
        .arg(dir.path().join("rulestudio.db"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("--enforce acts through the collector: add --collector"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("rulestudio.db").exists(),
        "it served first"
    );
    // The collector's options need --enforce, as they do on rulestudio-collector.
    let out = Command::new(env!("CARGO_BIN_EXE_rulestudio"))
        .args(["serve", "--collector", "--enforce-allow", "proc.name = x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--enforce"));
}

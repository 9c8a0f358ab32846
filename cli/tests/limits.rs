//! `rulestudio lint` on rules built to exhaust the loader (issue #11: 20,000 chained macros
//! reached 22 GB): it finishes with the studio limit diagnostic, in bounded memory.

use serde_json::Value;
use std::process::Command;

/// `n` macros, each wrapping the previous one, and a rule using the last.
fn macro_chain(n: usize) -> String {
    let mut text = String::from("- macro: m0\n  condition: proc.name = a\n");
    for i in 1..n {
        text.push_str(&format!(
            "- macro: m{i}\n  condition: (m{} and proc.name = a)\n",
            i - 1
        ));
    }
    text.push_str(&format!(
        "- rule: r\n  desc: d\n  condition: evt.type = execve and m{}\n  output: o\n  priority: Warning\n",
        n - 1
    ));
    text
}

/// The largest resident set of this process's waited-for children, in MB (the only child of
/// this test binary is the one below).
fn children_peak_rss_mb() -> i64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0);
    usage.ru_maxrss / 1024
}

#[test]
fn lint_of_twenty_thousand_chained_macros_stops_at_the_studio_limit_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.yaml");
    std::fs::write(&path, macro_chain(20_000)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rulestudio"))
        .args(["lint", "--format", "json", path.to_str().unwrap()])
        .output()
        .expect("run rulestudio");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let limits: Vec<&Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "RS017")
        .collect();
    assert_eq!(limits.len(), 1, "{report}");
    assert_eq!(limits[0]["item_type"], "macro", "{}", limits[0]);
    assert_eq!(limits[0]["severity"], "error");
    let peak = children_peak_rss_mb();
    println!("rulestudio lint on 20,000 chained macros: peak RSS {peak} MB");
    assert!(peak < 300, "peak RSS {peak} MB");
}

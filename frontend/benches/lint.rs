//! Lint-as-you-type cost on the host: the editor's draft loaded and linted after the whole
//! `falco_rules.yaml`, as on every keystroke pause. Prints the median; the in-browser (wasm)
//! figure comes from the end-to-end test, which reads the editor's `lint-time` element.

use rulestudio_engine::loader::SourceFile;
use rulestudio_frontend::editor::lint::Workspace;
use std::time::Instant;

fn main() {
    let mut ws = Workspace::new(vec![SourceFile {
        name: "falco_rules.yaml".into(),
        text: include_str!("../../engine/data/falco_rules.yaml").into(),
    }]);
    let draft = "- rule: Shell in container\n  desc: d\n  condition: spawned_process and container and proc.name in (shell_binaries)\n  output: \"%proc.name\"\n  priority: WARNING\n";
    let mut times: Vec<f64> = (0..50)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(ws.lint(draft));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "lint draft after falco_rules.yaml (host): median {:.2} ms, p90 {:.2} ms",
        times[25], times[45]
    );
}

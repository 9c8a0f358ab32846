//! Events per second through the full `data/falco_rules.yaml` rule set (loaded with
//! `loader::load`), single core, events decoded beforehand. The event mix is what a host mostly
//! produces: process starts, file opens for read and write, connections, reads, writes, closes.
//! `cargo bench -p rulestudio-engine --bench eval` prints the figure.

use rulestudio_engine::event::Event;
use rulestudio_engine::loader::{self, LoadOptions, SourceFile};
use rulestudio_engine::rule::Matching;
use std::hint::black_box;
use std::time::Instant;

fn events() -> Vec<Event> {
    let raw = [
        r#"{"evt.type":"execve","evt.dir":"<","proc.name":"bash","proc.pname":"sshd","proc.cmdline":"bash -c ls","proc.args":"-c ls","proc.exepath":"/usr/bin/bash","proc.tty":0,"container.id":"host","user.name":"root"}"#,
        r#"{"evt.type":"execve","evt.dir":"<","proc.name":"curl","proc.pname":"bash","proc.aname[2]":"sshd","proc.cmdline":"curl -s http://example.com","proc.args":"-s http://example.com","proc.exepath":"/usr/bin/curl","container.id":"3a4b5c6d7e8f","container.image.repository":"alpine"}"#,
        r#"{"evt.type":"openat","evt.dir":"<","evt.is_open_read":true,"evt.is_open_write":false,"fd.typechar":"f","fd.num":3,"fd.name":"/usr/lib/x86_64-linux-gnu/libc.so.6","proc.name":"ls","proc.pname":"bash","container.id":"host"}"#,
        r#"{"evt.type":"openat","evt.dir":"<","evt.is_open_read":true,"evt.is_open_write":false,"fd.typechar":"f","fd.num":4,"fd.name":"/etc/passwd","proc.name":"id","proc.pname":"bash","container.id":"host"}"#,
        r#"{"evt.type":"openat","evt.dir":"<","evt.is_open_read":false,"evt.is_open_write":true,"fd.typechar":"f","fd.num":5,"fd.name":"/var/log/app.log","proc.name":"java","proc.pname":"systemd","container.id":"host"}"#,
        r#"{"evt.type":"connect","evt.dir":"<","fd.typechar":"4","fd.cip":"10.0.0.5","fd.sip":"93.184.216.34","fd.cport":51234,"fd.sport":443,"proc.name":"curl","container.id":"host"}"#,
        r#"{"evt.type":"write","evt.dir":"<","fd.typechar":"f","fd.num":1,"fd.name":"/dev/pts/0","proc.name":"bash"}"#,
        r#"{"evt.type":"close","evt.dir":"<","fd.num":3,"proc.name":"ls"}"#,
        r#"{"evt.type":"openat","evt.dir":"<","evt.is_open_read":true,"evt.is_open_write":false,"fd.typechar":"f","fd.num":3,"fd.name":"/etc/shadow","fd.directory":"/etc","fd.filename":"shadow","proc.name":"cat","proc.exepath":"/usr/bin/cat","proc.cmdline":"cat /etc/shadow","proc.pname":"bash","proc.aname[2]":"sshd","user.name":"root","user.uid":0,"container.id":"host","evt.arg.flags":"O_RDONLY"}"#,
        r#"{"evt.type":"read","evt.dir":"<","fd.num":0,"fd.typechar":"f","fd.name":"/dev/pts/0","proc.name":"bash"}"#,
        r#"{"evt.type":"write","evt.dir":"<","fd.typechar":"4","fd.num":7,"fd.cip":"10.0.0.5","fd.sip":"10.0.0.9","fd.cport":40000,"fd.sport":5432,"proc.name":"postgres"}"#,
    ];
    raw.iter().map(|r| Event::from_json_str(r).expect("bench event")).collect()
}

fn main() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/falco_rules.yaml")).expect("falco_rules.yaml");
    let loaded = loader::load(&[SourceFile { name: "falco_rules.yaml".into(), text }], &LoadOptions::default());
    assert!(loaded.ok(), "falco_rules.yaml must load: {:?}", loaded.diagnostics.iter().filter(|d| d.is_error()).collect::<Vec<_>>());
    let set = loaded.ruleset;
    let n_rules = set.rules().len();
    let events = events();
    let mut out = Vec::new();
    let rounds = 200_000;
    for matching in [Matching::All, Matching::First] {
        let mut matches = 0usize;
        // Warm-up, then the measured run.
        for ev in events.iter().cycle().take(100_000) {
            set.eval(black_box(ev), matching, &mut out);
            out.clear();
        }
        let cpu_start = cpu_seconds();
        let start = Instant::now();
        for _ in 0..rounds {
            for ev in &events {
                set.eval(black_box(ev), matching, &mut out);
                matches += out.len();
                out.clear();
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds().map(|c0| (c0, cpu_start));
        let total = rounds * events.len();
        println!(
            "eval ({matching:?}): {n_rules} rules of falco_rules.yaml, {total} events in {secs:.3} s = {:.2} M events/s ({matches} matches)",
            total as f64 / secs / 1e6
        );
        // The machine may be shared: the figure per second of CPU time of this thread.
        if let Some((end, Some(begin))) = cpu {
            println!("  = {:.2} M events per CPU-second of this thread", total as f64 / (end - begin) / 1e6);
        }
    }
}

/// CPU time of this thread, from `/proc/thread-self/schedstat` (nanoseconds on the CPU).
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

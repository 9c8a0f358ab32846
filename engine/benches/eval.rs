//! Events per second through a rule set, single core, events decoded beforehand.
//! `cargo bench -p rulestudio-engine --bench eval` prints the figure.
//!
//! Until the loader can build the rule set from `data/falco_rules.yaml`, the rules are the
//! conditions of that file's rules with their macros and lists expanded by hand (abridged
//! where the lists are long); the event mix is what a host mostly produces: process starts,
//! file opens, connections, writes, closes.

use rulestudio_engine::compile::compile;
use rulestudio_engine::eval::{CompiledRule, RuleSet};
use rulestudio_engine::event::Event;
use rulestudio_engine::output::OutputFormat;
use rulestudio_engine::rule::{Matching, Priority};
use std::hint::black_box;
use std::time::Instant;

const SHELLS: &str = "(ash, bash, csh, ksh, sh, tcsh, zsh, dash)";
const SENSITIVE: &str = "(/etc/shadow, /etc/sudoers, /etc/pam.conf, /etc/security/pwquality.conf)";

fn conditions() -> Vec<String> {
    let spawned = "evt.type in (execve, execveat) and evt.dir = <";
    let open_write = "evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.typechar = f and fd.num >= 0";
    let open_read = "evt.type in (open, openat, openat2) and evt.is_open_read = true and fd.typechar = f and fd.num >= 0";
    let container = "container.id != host";
    vec![
        format!("{open_read} and fd.name pmatch {SENSITIVE} and not proc.name in (sshd, sudo, su, login, passwd, chage, unix_chkpwd) and not proc.pname in (sshd, cron)"),
        format!("{spawned} and proc.name in {SHELLS} and {container} and proc.tty != 0 and container.image.repository exists"),
        format!("{spawned} and proc.name = sudo and (proc.cmdline contains \"-u#-1\" or proc.cmdline contains \"-u#4294967295\")"),
        format!("{open_write} and fd.directory in (/bin, /sbin, /usr/bin, /usr/sbin) and not proc.name in (apt, dpkg, rpm, yum, dnf)"),
        format!("{open_write} and (fd.name startswith /etc/ or fd.name startswith /root/.ssh) and not proc.name in (vi, vim, nano, sed, useradd, passwd)"),
        format!("{spawned} and proc.pname in (nginx, httpd, apache2, node, java, php-fpm) and proc.name in {SHELLS}"),
        format!("evt.type = connect and evt.dir = < and (fd.typechar = 4 or fd.typechar = 6) and fd.ip != \"0.0.0.0\" and not fd.snet in (127.0.0.0/8, 10.0.0.0/8, 192.168.0.0/16, 172.16.0.0/12) and proc.name in {SHELLS}"),
        format!("{spawned} and proc.name in (nc, ncat, netcat) and (proc.args contains \"-e\" or proc.args contains \"-c\")"),
        format!("{spawned} and ((proc.name = curl and proc.args contains \"|\") or proc.cmdline regex '.*base64 -d.*\\| *(sh|bash).*')"),
        format!("evt.type in (unlink, unlinkat, rename, renameat, renameat2) and evt.dir = < and (fd.name startswith /var/log or evt.arg.name startswith /var/log) and not proc.name in (logrotate, rsyslogd)"),
        format!("{spawned} and proc.exepath startswith /dev/shm or ({spawned} and proc.is_exe_from_memfd = true)"),
        format!("evt.type in (ptrace) and evt.dir = < and evt.arg.request in (PTRACE_POKETEXT, PTRACE_POKEDATA, PTRACE_SETREGS)"),
        format!("{spawned} and proc.name = find and proc.args icontains \"-perm -4000\""),
        format!("{open_read} and fd.name glob '/proc/*/environ' and not proc.name in (ps, top, htop)"),
        format!("{spawned} and proc.aname in (sshd, sudo) and proc.name in (useradd, usermod, userdel, groupadd)"),
        format!("evt.type = setuid and evt.dir = < and not user.name = root and evt.arg.uid = 0"),
        format!("{spawned} and {container} and container.privileged = true and proc.name in (mount, umount, nsenter)"),
        format!("evt.type in (memfd_create) and evt.dir = < and proc.name in {SHELLS}"),
        format!("{open_write} and fd.name endswith .bash_history and not proc.name in {SHELLS}"),
        format!("{spawned} and proc.name = kubectl and proc.cmdline contains exec and {container}"),
        format!("evt.type = bpf and evt.dir = < and evt.arg.cmd = BPF_PROG_LOAD and not proc.name in (falco, cilium-agent)"),
        format!("{spawned} and proc.name in (insmod, modprobe) and not proc.pname in (systemd, kmod)"),
        format!("evt.type = symlinkat and evt.dir = < and evt.arg.target in {SENSITIVE}"),
        format!("{open_read} and fd.name startswith /root/.aws and not proc.name in (aws, python3)"),
        format!("{spawned} and proc.name in (xmrig, minerd, cpuminer) or (evt.type = connect and fd.sport in (3333, 4444, 5555, 7777, 14444))"),
    ]
}

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
        r#"{"evt.type":"read","evt.dir":"<","fd.num":0,"fd.typechar":"f","fd.name":"/dev/pts/0","proc.name":"bash"}"#,
        r#"{"evt.type":"write","evt.dir":"<","fd.typechar":"4","fd.num":7,"fd.cip":"10.0.0.5","fd.sip":"10.0.0.9","fd.cport":40000,"fd.sport":5432,"proc.name":"postgres"}"#,
    ];
    raw.iter().map(|r| Event::from_json_str(r).expect("bench event")).collect()
}

fn main() {
    let rules: Vec<CompiledRule> = conditions()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let compiled = compile(&rulestudio_engine::syntax::parse(c).ok().expect("bench condition parses"));
            assert!(!compiled.has_errors(), "rule {i}: {:?}", compiled.diagnostics);
            CompiledRule {
                name: format!("rule {i}"),
                priority: Priority::Warning,
                tags: Vec::new(),
                source: "syscall".into(),
                filter: compiled.filter.expect("filter"),
                output: OutputFormat::parse("%proc.name %fd.name").expect("output"),
                evt_types: compiled.evt_types,
            }
        })
        .collect();
    let n_rules = rules.len();
    let set = RuleSet::new(rules);
    let events = events();
    let mut out = Vec::new();
    let rounds = 200_000;
    let mut matches = 0usize;
    for matching in [Matching::All, Matching::First] {
        // Warm-up, then the measured run.
        for ev in events.iter().cycle().take(100_000) {
            set.eval(black_box(ev), matching, &mut out);
            out.clear();
        }
        let start = Instant::now();
        for _ in 0..rounds {
            for ev in &events {
                set.eval(black_box(ev), matching, &mut out);
                matches += out.len();
                out.clear();
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let total = rounds * events.len();
        println!(
            "eval ({matching:?}): {n_rules} rules, {total} events in {secs:.3} s = {:.2} M events/s ({matches} matches)",
            total as f64 / secs / 1e6
        );
        matches = 0;
    }
}

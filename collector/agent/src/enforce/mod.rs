//! Enforcement (issue #15): what a node does with a verdict on a rule in enforce mode.
//!
//! [`Enforcer::act`] takes the verdict (pid, start time, rule, the rule's action and the event
//! it matched), checks the rails (init, kernel threads, the collector, protected names,
//! `--enforce-allow`, the node's dry run and kill switch, the rule's cap), then quarantines the
//! process in the kernel (`collector/ebpf/enforce.h`: EPERM on its security-relevant operations,
//! SIGKILL at its next syscall) and kills it through a pidfd, which also reaches a process that
//! makes no syscalls. What was done comes back as the alert's `action`.
//!
//! The verdict comes after the matching syscall: nothing done before it is undone (see the
//! guide, "Enforcement").

pub mod cap;
pub mod exec;
pub mod lsm;
pub mod switch;
pub mod target;
pub mod wake;

use crate::kernel::KernelEnforcement;
use aya::maps::{HashMap, MapData};
use rulestudio_api::action::{Action, AlertAction};
use rulestudio_engine::eval::{ExecStop, Filter};
use rulestudio_engine::event::FieldSource;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use target::{ProcStat, Spared};

/// The name of the node-local kill switch in the state directory: while it exists, enforce
/// rules act as dry run on this node.
pub const SWITCH_FILE: &str = "enforcement-disabled";

/// Actions per rule per minute before the rule falls back to dry run on this node.
pub const DEFAULT_CAP_PER_MINUTE: u32 = 20;

/// A node's enforcement settings (`rulestudio-collector --enforce …`).
#[derive(Debug, Clone)]
pub struct EnforceConfig {
    /// `--enforce-dry-run`: every enforce rule acts as dry run on this node.
    pub dry_run: bool,
    /// `--enforce-allow CONDITION`: processes whose matching event meets one are never touched.
    pub allow: Vec<String>,
    pub cap_per_minute: u32,
    /// The kill switch (`<state-dir>/enforcement-disabled`), checked at every verdict.
    pub switch_file: Option<PathBuf>,
}

impl Default for EnforceConfig {
    fn default() -> Self {
        EnforceConfig {
            dry_run: false,
            allow: Vec::new(),
            cap_per_minute: DEFAULT_CAP_PER_MINUTE,
            switch_file: None,
        }
    }
}

/// The enforcement flags, shared by `rulestudio-collector` and `rulestudio serve --collector`.
#[derive(Debug, Clone, clap::Args)]
pub struct EnforceArgs {
    /// Act on rules tagged `rulestudio.enforce`: quarantine the matching process in the kernel
    /// (EPERM on its file, network, exec and fork operations through the BPF LSM) and kill it.
    /// Without this flag the node never acts, whatever the rules say.
    #[arg(long)]
    pub enforce: bool,
    /// With --enforce: every enforce rule acts as dry run on this node (alerts say `would_kill`).
    #[arg(long, requires = "enforce")]
    pub enforce_dry_run: bool,
    /// With --enforce: never touch a process whose matching event meets this Falco condition,
    /// e.g. `proc.name = backup-agent`; repeatable. Adds to the built-in protected processes.
    #[arg(long, value_name = "CONDITION", requires = "enforce")]
    pub enforce_allow: Vec<String>,
}

impl EnforceArgs {
    /// The node's settings, `None` without `--enforce`; the kill switch lives in `state_dir`.
    pub fn config(&self, state_dir: Option<&std::path::Path>) -> Option<EnforceConfig> {
        self.enforce.then(|| EnforceConfig {
            dry_run: self.enforce_dry_run,
            allow: self.enforce_allow.clone(),
            switch_file: state_dir.map(|d| d.join(SWITCH_FILE)),
            ..EnforceConfig::default()
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnforceError {
    #[error("--enforce-allow `{condition}`: {message}")]
    Allow { condition: String, message: String },
}

/// A verdict on a rule, as the node's evaluator reaches it.
pub struct Verdict<'a> {
    pub pid: u32,
    /// The process's start time in clock ticks after boot ([`target::start_ticks`]): the
    /// verdict is about this process, not whatever holds its pid now.
    pub start_ticks: u64,
    pub rule: &'a str,
    pub action: Action,
    /// The event the rule matched (what `--enforce-allow` conditions judge).
    pub event: &'a dyn FieldSource,
}

/// Why an [`Outcome`] is what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Quarantined, and killed unless the outcome says `quarantined`.
    Acted,
    /// The rule alerts or audits.
    NotEnforcing,
    /// The rule is in dry run.
    RuleDryRun,
    /// `--enforce-dry-run`.
    NodeDryRun,
    /// The node-local switch is on.
    Disabled,
    /// The rule passed its cap this minute: dry run, and the caller raises an alert saying so.
    Capped,
    Spared(Spared),
    /// The process exited, or its pid now names another process.
    Gone,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub action: AlertAction,
    pub reason: Reason,
}

impl Outcome {
    fn new(action: AlertAction, reason: Reason) -> Outcome {
        Outcome { action, reason }
    }
}

pub struct Enforcer {
    quarantine: HashMap<MapData, u32, u64>,
    lsm: bool,
    config: EnforceConfig,
    allow: Vec<Filter>,
    cap: cap::RateCap,
    switch: Arc<switch::Switch>,
    exec: exec::ExecStops,
    wake: wake::Wakeups,
    _watcher: switch::Watcher,
}

impl Enforcer {
    /// Compiles the `--enforce-allow` conditions (an error names the condition and why).
    pub fn new(kernel: KernelEnforcement, config: EnforceConfig) -> Result<Enforcer, EnforceError> {
        let allow = config
            .allow
            .iter()
            .map(|condition| compile_allow(condition))
            .collect::<Result<_, _>>()?;
        let switch = Arc::new(switch::Switch::new(
            config.dry_run,
            config.switch_file.clone(),
            kernel.exec_stops_on,
        ));
        Ok(Enforcer {
            quarantine: kernel.quarantine,
            lsm: kernel.lsm,
            cap: cap::RateCap::new(config.cap_per_minute),
            config,
            allow,
            _watcher: switch::Watcher::start(switch.clone()),
            switch,
            exec: exec::ExecStops::new(kernel.exec_stops, kernel.exec_stopped),
            wake: wake::Wakeups::new(kernel.wake_on),
        })
    }

    /// Whether the kernel refuses a quarantined process's operations (the BPF LSM is active);
    /// without it, the kill at the next syscall and the pidfd's are the only stops.
    pub fn lsm(&self) -> bool {
        self.lsm
    }

    /// Loads the kernel's exec stops for a rule set's enforce rules (the engine's
    /// [`ExecStop`] of each), replacing the previous set; returns how many program names it
    /// stops.
    pub fn set_exec_stops(
        &mut self,
        rules: &rulestudio_engine::eval::RuleSet,
    ) -> Result<usize, aya::maps::MapError> {
        let stops: Vec<(&str, Action, ExecStop)> = rules
            .rules()
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    Action::of_rule(r),
                    r.filter.exec_stop(&r.evt_types),
                )
            })
            .collect();
        self.exec.set(stops.iter().map(|(n, a, s)| (*n, *a, s)))
    }

    /// Makes the records of `rules`' enforce rules' event types wake the capture at once
    /// ([`wake::Wakeups::set`]); returns their syscall numbers.
    pub fn set_wakeups(
        &mut self,
        rules: &rulestudio_engine::eval::RuleSet,
    ) -> Result<Vec<u32>, aya::maps::MapError> {
        self.wake.set(rules)
    }

    /// The syscall numbers whose records wake the capture at once, as the kernel has them.
    pub fn wakeups_in_kernel(&self) -> Result<Vec<u32>, aya::maps::MapError> {
        self.wake.in_kernel()
    }

    /// Per rule, the execs the kernel stopped.
    pub fn exec_stopped(&self) -> Vec<(String, u64)> {
        self.exec.stopped()
    }

    /// Whether the node acts now; brings the kernel's exec stops in step with the switch at
    /// once (its watcher does so every [`switch::POLL`]).
    pub fn sync_switch(&self) -> bool {
        self.switch.sync()
    }

    /// Acts on a verdict, or says why not.
    pub fn act(&mut self, v: &Verdict) -> Outcome {
        if !v.action.enforces() {
            return Outcome::new(AlertAction::None, Reason::NotEnforcing);
        }
        let Some(stat) = ProcStat::read(v.pid).filter(|s| s.start_ticks == v.start_ticks) else {
            return Outcome::new(AlertAction::None, Reason::Gone);
        };
        if let Some(spared) = self.spared(v, &stat) {
            return Outcome::new(AlertAction::None, Reason::Spared(spared));
        }
        let dry = |reason| Outcome::new(AlertAction::WouldKill, reason);
        if v.action == Action::DryRun {
            return dry(Reason::RuleDryRun);
        }
        if self.config.dry_run {
            return dry(Reason::NodeDryRun);
        }
        if !self.switch.sync() {
            return dry(Reason::Disabled);
        }
        if !self.cap.admit(v.rule, Instant::now()) {
            return dry(Reason::Capped);
        }
        self.quarantine_and_kill(v)
    }

    fn spared(&self, v: &Verdict, stat: &ProcStat) -> Option<Spared> {
        target::fixed_rails(v.pid, stat).or_else(|| {
            self.allow
                .iter()
                .position(|f| f.matches(v.event))
                .map(Spared::Allowed)
        })
    }

    fn quarantine_and_kill(&mut self, v: &Verdict) -> Outcome {
        // The kernel checks the start time itself, so the entry cannot reach a process that
        // took the pid since; it goes with the process's last thread.
        let marked = match self.quarantine.insert(v.pid, v.start_ticks, 0) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(
                    pid = v.pid,
                    rule = v.rule,
                    "quarantine map: {e}; killing only"
                );
                false
            }
        };
        let quarantined = Outcome::new(
            if marked {
                AlertAction::Quarantined
            } else {
                AlertAction::None
            },
            if marked { Reason::Acted } else { Reason::Gone },
        );
        let Some(pid) = rustix::process::Pid::from_raw(v.pid as i32) else {
            return quarantined;
        };
        let Ok(pidfd) = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
        else {
            return quarantined;
        };
        // The pidfd names whatever held the pid when it was opened: signal it only if that is
        // still the process of the verdict.
        if target::start_ticks(v.pid) != Some(v.start_ticks) {
            return quarantined;
        }
        match rustix::process::pidfd_send_signal(&pidfd, rustix::process::Signal::KILL) {
            Ok(()) => Outcome::new(AlertAction::Killed, Reason::Acted),
            Err(e) => {
                tracing::warn!(pid = v.pid, rule = v.rule, "pidfd_send_signal: {e}");
                quarantined
            }
        }
    }
}

/// The node's enforcer, when it enforces (`--enforce` loaded the kernel side): logs what it
/// can do and puts it in the heartbeats.
pub fn arm(
    kernel: Option<KernelEnforcement>,
    config: Option<EnforceConfig>,
    counters: &crate::stats::Counters,
) -> Result<Option<Enforcer>, EnforceError> {
    let (Some(kernel), Some(config)) = (kernel, config) else {
        return Ok(None);
    };
    counters.set_bpf_lsm(kernel.lsm);
    let enforcer = Enforcer::new(kernel, config)?;
    tracing::info!(
        bpf_lsm = enforcer.lsm(),
        dry_run = enforcer.config.dry_run,
        allow = enforcer.allow.len(),
        cap_per_minute = enforcer.config.cap_per_minute,
        "enforcement armed: enforce rules' processes are {}",
        if enforcer.lsm() {
            "refused their operations in the kernel, then killed"
        } else {
            "killed at their next syscall and through a pidfd (no BPF LSM)"
        }
    );
    Ok(Some(enforcer))
}

fn compile_allow(condition: &str) -> Result<Filter, EnforceError> {
    let compiled = rulestudio_engine::loader::compile_standalone(condition, None);
    let error = |message: String| EnforceError::Allow {
        condition: condition.to_string(),
        message,
    };
    if let Some(d) = compiled.diagnostics.iter().find(|d| d.is_error()) {
        let at = d
            .span
            .map_or(String::new(), |s| format!(" (at byte {})", s.start));
        return Err(error(format!("{}{at}", d.message)));
    }
    compiled
        .filter
        .ok_or_else(|| error("does not compile".into()))
}

/// Keeps the kernel's exec stops those of the live set the node runs: loads them at each new
/// version, until `live` is dropped by its follower.
/// Acts on the node's alert of an enforce (or dry-run) rule and writes what was done into
/// its `action`; other alerts are left as they are (`none`).
///
/// The verdict names the process by the event's `proc.pid` and the start time `/proc` gives
/// that pid now: the node judges a batch as it is sealed (up to the batch delay after the
/// event), and a pid reused within that window by a process that matched nothing would be
/// taken for it. `act` re-reads the start time through the pidfd it signals, so the process it
/// kills is the one it checked.
pub fn act_on_alert(enforcer: &mut Enforcer, alert: &mut rulestudio_api::alerts::Alert) {
    let action = Action::of_tags(&alert.tags);
    if !action.enforces() {
        return;
    }
    let Some(event) = alert.event.as_ref() else {
        return;
    };
    let pid = event
        .get("proc.pid")
        .and_then(serde_json::Value::as_u64)
        .and_then(|p| u32::try_from(p).ok());
    let (Some(pid), Ok(ev)) = (pid, rulestudio_engine::event::Event::from_map(event)) else {
        return;
    };
    let Some(start_ticks) = target::start_ticks(pid) else {
        // Gone before the verdict: nothing is left to stop.
        return;
    };
    let outcome = enforcer.act(&Verdict {
        pid,
        start_ticks,
        rule: &alert.rule,
        action,
        event: &ev,
    });
    tracing::info!(
        rule = %alert.rule,
        pid,
        action = ?outcome.action,
        reason = ?outcome.reason,
        "enforcement verdict"
    );
    alert.action = outcome.action;
}

pub async fn follow_live(
    enforcer: Arc<std::sync::Mutex<Enforcer>>,
    live: Arc<rulestudio_node::Live>,
) {
    let mut changes = live.subscribe();
    let mut loaded = None;
    loop {
        if let Some(rules) = live.current()
            && loaded != Some(rules.set.version)
        {
            loaded = Some(rules.set.version);
            let mut e = enforcer.lock().unwrap_or_else(|p| p.into_inner());
            match e.set_exec_stops(&rules.ruleset) {
                Ok(n) => tracing::info!(
                    version = rules.set.version,
                    "exec stops loaded: {n} program names"
                ),
                Err(e) => tracing::error!("loading exec stops: {e}"),
            }
            match e.set_wakeups(&rules.ruleset) {
                Ok(nrs) => tracing::info!(
                    version = rules.set.version,
                    "enforce rules' syscalls wake the capture at once: {nrs:?}"
                ),
                Err(e) => tracing::error!("setting the capture's wakeups: {e}"),
            }
        }
        if changes.changed().await.is_err() {
            return;
        }
    }
}

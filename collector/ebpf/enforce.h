/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Enforcement (issue #15): quarantine, then kill. The agent marks a process in `quarantine`
 * (tgid -> its start time in clock ticks, the unit of /proc/PID/stat's `starttime`) once the
 * node's verdict on an enforce rule is reached; from then on:
 *
 *  - BPF LSM hooks refuse its security-relevant operations with EPERM: opening files,
 *    creating inodes, writing, connecting, exec, and fork/clone (so no child escapes);
 *  - raw_syscalls:sys_enter sends it SIGKILL at its next syscall (the agent also sends one
 *    through a pidfd, which reaches a process that makes no syscalls).
 *
 * A pid alone is never trusted: the entry holds only while the task's start time equals the
 * one the agent saw, so a recycled pid is not touched. Host init (tgid 1), kernel threads and
 * the collector are never touched, whatever the map says (the agent refuses them too).
 * Programs here are attached only with `--enforce`; their links are not pinned, so
 * enforcement stops when the collector exits (fail-open).
 */
#pragma once

#define EPERM 1
#define SIGKILL 9
#define MAY_WRITE 0x2
#define PF_KTHREAD 0x00200000
#define QUARANTINE_MAX 4096

/* Nanoseconds per clock tick (1e9 / sysconf(_SC_CLK_TCK)), set by the agent. */
const volatile __u64 tick_ns = 10000000;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, QUARANTINE_MAX);
	__type(key, __u32);
	__type(value, __u64);
} quarantine SEC(".maps");

/* Whether `task`'s process is quarantined: marked, same start time, and not protected. */
static __always_inline int quarantined(struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__u64 *start = bpf_map_lookup_elem(&quarantine, &tgid);
	if (!start)
		return 0;
	if (tgid == 1 || tgid == own_tgid || (BPF_CORE_READ(task, flags) & PF_KTHREAD))
		return 0;
	__u64 ticks = BPF_CORE_READ(task, group_leader, start_boottime) / tick_ns;
	return ticks == *start;
}

static __always_inline int current_quarantined(void)
{
	return quarantined((struct task_struct *)bpf_get_current_task());
}

/*
 * An LSM program's context is the hook's arguments followed by the verdict of the BPF LSM
 * programs before it: a refusal there stands, otherwise a quarantined process gets EPERM.
 */
#define DENY_IF(prev, cond) ((prev) ? (prev) : ((cond) ? -EPERM : 0))

SEC("lsm/file_open")
int enforce_file_open(unsigned long long *ctx)
{
	/* (struct file *file) */
	return DENY_IF((int)ctx[1], current_quarantined());
}

SEC("lsm/inode_create")
int enforce_inode_create(unsigned long long *ctx)
{
	/* (struct inode *dir, struct dentry *dentry, umode_t mode) */
	return DENY_IF((int)ctx[3], current_quarantined());
}

SEC("lsm/file_permission")
int enforce_file_permission(unsigned long long *ctx)
{
	/* (struct file *file, int mask): writes only, so the kill itself is never in the way. */
	int mask = (int)ctx[1];
	return DENY_IF((int)ctx[2], (mask & MAY_WRITE) && current_quarantined());
}

SEC("lsm/socket_connect")
int enforce_socket_connect(unsigned long long *ctx)
{
	/* (struct socket *sock, struct sockaddr *address, int addrlen) */
	return DENY_IF((int)ctx[3], current_quarantined());
}

SEC("lsm/bprm_check_security")
int enforce_bprm_check(unsigned long long *ctx)
{
	/* (struct linux_binprm *bprm) */
	return DENY_IF((int)ctx[1], current_quarantined());
}

SEC("lsm/task_alloc")
int enforce_task_alloc(unsigned long long *ctx)
{
	/* (struct task_struct *task, unsigned long clone_flags), called in the forking task. */
	return DENY_IF((int)ctx[2], current_quarantined());
}

/* SIGKILL at the quarantined process's next syscall; without the BPF LSM, the only kernel stop. */
SEC("raw_tracepoint/sys_enter")
int enforce_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (current_quarantined())
		bpf_send_signal(SIGKILL);
	return 0;
}

/*
 * Exec stops compiled by the engine (`Filter::exec_stop`): the names (`comm`, as the new image
 * has it at sched_process_exec, which is what libs calls proc.name) of programs whose exec an
 * enforce rule matches -> the rule's index in the agent's table. `exec_stops_on[0]` is 1 while
 * the agent enforces (not in dry run, the node-local switch off).
 */
struct comm_key {
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct comm_key);
	__type(value, __u32);
} exec_stops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} exec_stops_on SEC(".maps");

/* Per rule index, execs stopped, for the agent to report. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} exec_stopped SEC(".maps");

/*
 * The new image is loaded and will run its first instruction on the return to user space: a
 * SIGKILL raised now is delivered before that, so the program never runs.
 */
SEC("raw_tracepoint/sched_process_exec")
int enforce_exec(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 zero = 0;
	__u32 *on = bpf_map_lookup_elem(&exec_stops_on, &zero);
	if (!on || !*on)
		return 0;
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	__u32 tgid = BPF_CORE_READ(task, tgid);
	if (tgid == 1 || tgid == own_tgid || (BPF_CORE_READ(task, flags) & PF_KTHREAD))
		return 0;
	struct comm_key key = {};
	BPF_CORE_READ_STR_INTO(&key.comm, task, comm);
	__u32 *rule = bpf_map_lookup_elem(&exec_stops, &key);
	if (!rule)
		return 0;
	bpf_send_signal(SIGKILL);
	__u64 *n = bpf_map_lookup_elem(&exec_stopped, rule);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

/* A process's entry goes with its last thread. */
SEC("raw_tracepoint/sched_process_exit")
int enforce_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	if (BPF_CORE_READ(task, signal, live.counter) == 0) {
		__u32 tgid = BPF_CORE_READ(task, tgid);
		bpf_map_delete_elem(&quarantine, &tgid);
	}
	return 0;
}

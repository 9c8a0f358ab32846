// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Kernel side of rulestudio-collector. A raw tracepoint on raw_syscalls:sys_exit (one record
 * per captured call, with its arguments, like a Falco exit event) and raw tracepoints on the
 * sched_process_fork/exec/exit lifecycle tracepoints. Raw tracepoints need neither
 * tracefs nor per-syscall attachment, and the syscall set is a map the agent fills.
 *
 * Nothing is dropped silently: a failed ring-buffer write increments stats[STAT_LOST]; the
 * own-pid and write de-duplication filters increment stats[STAT_FILTERED].
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vmlinux_min.h"
#include "records.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* x86_64 syscall numbers of the calls whose arguments need more than copying registers. */
#define NR_write 1
#define NR_open 2
#define NR_chdir 80
#define NR_pwrite64 18
#define NR_writev 20
#define NR_connect 42
#define NR_accept 43
#define NR_bind 49
#define NR_listen 50
#define NR_execve 59
#define NR_rename 82
#define NR_creat 85
#define NR_link 86
#define NR_unlink 87
#define NR_symlink 88
#define NR_chmod 90
#define NR_mount 165
#define NR_umount2 166
#define NR_init_module 175
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_linkat 265
#define NR_symlinkat 266
#define NR_fchmodat 268
#define NR_accept4 288
#define NR_finit_module 313
#define NR_renameat2 316
#define NR_memfd_create 319
#define NR_execveat 322
#define NR_openat 257
#define NR_openat2 437
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_clone 56
#define NR_fork 57
#define NR_vfork 58
#define NR_mkdir 83
#define NR_rmdir 84
#define NR_mkdirat 258
#define NR_clone3 435
#define NR_MAX 512

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define SOCKADDR_MAX 128

const volatile __u32 own_tgid = 0;
/* Writes to the same (process, fd) closer together than this are counted, not emitted. */
const volatile __u64 dedup_ns = 0;
/* Consumers are woken once this much data waits (set by the agent: 256 KiB, or a quarter of a
 * smaller ring); the agent also polls on a short timer. */
const volatile __u64 wakeup_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, __u32);
	__type(value, __u8);
} syscall_on SEC(".maps");

/*
 * Syscalls whose records wake the reader at once: the event types of enforce rules, set by an
 * enforcing agent from each live-set version. Other records wait for `wakeup_bytes` or the
 * reader's poll timeout (batched wakeups are what keep capture cheap); a verdict that kills
 * must not wait for either.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, __u32);
	__type(value, __u8);
} wake_on SEC(".maps");

/*
 * Per CPU, when a `wake_on` record last woke the reader: at most one such wakeup per
 * WAKE_GAP_NS per CPU, so that a flood of those syscalls cannot turn batched wakeups into one
 * per record (the reader then sleeps at most that long after a record it must see soon).
 */
#define WAKE_GAP_NS 1000000ULL
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_wake SEC(".maps");

/* Whether a record of syscall `nr`, made at `ts`, wakes the reader now. */
static __always_inline int wakes_now(__u32 nr, __u64 ts)
{
	__u8 *wake = bpf_map_lookup_elem(&wake_on, &nr);
	if (!wake || !*wake)
		return 0;
	__u32 zero = 0;
	__u64 *last = bpf_map_lookup_elem(&last_wake, &zero);
	if (!last || ts - *last < WAKE_GAP_NS)
		return 0;
	*last = ts;
	return 1;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} last_write SEC(".maps");

/*
 * A record is built in a per-CPU scratch buffer (the pattern of Falco's auxiliary map): parts
 * are appended at `pos`, and only the `pos` bytes used go to the ring buffer. Offsets into the
 * buffer are masked with POS_MASK so that the verifier can bound every access; a record never
 * grows beyond RECORD_MAX, well below it, and the buffer leaves room for a full string (or an
 * argv read, bounded by twice STR_MAX) after any masked offset.
 */
#define POS_MASK (16 * 1024 - 1)
#define SCRATCH_SIZE (POS_MASK + 1 + 2 * STR_MAX)

/* The scratch buffer, and the layouts it holds, named here so that they reach the object's BTF
 * (read by the agent's `record_layout` test). */
union scratch {
	char buf[SCRATCH_SIZE];
	struct {
		struct rec_header h;
		struct syscall_body b;
		struct context c;
		struct sock_tuple s;
	} syscall_layout;
	struct {
		struct rec_header h;
		struct task_body b;
		struct context c;
	} task_layout;
	enum record_kind kind;
};

_Static_assert(RECORD_MAX <= POS_MASK, "a record fits below the scratch mask");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union scratch);
} scratch SEC(".maps");

/*
 * What of a thread's context the kernel compares to decide whether to send it again: the ids
 * and capability sets (a set*id or capset call, a setuid exec, a user namespace) and the session
 * (setsid). Not the parent (reparenting is libsinsp's own inference), the login uid or the name
 * (both travel with every fork and exec record).
 */
struct ctx_key {
	__u64 cap_permitted;
	__u64 cap_effective;
	__u32 uid;
	__u32 gid;
	__u32 sid;
	__u32 reserved;
};

/*
 * tid -> the context last sent for it. A thread's context travels with its first record and
 * with every record after a change, like the updates libsinsp makes to its thread table, not
 * with every event. An entry is written only once its record is in the ring (a lost record
 * sends the context again), dropped at the thread's exit; an LRU eviction only costs a resend.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct ctx_key);
} ctx_sent SEC(".maps");

/* The record being built: the scratch buffer and the first free byte. */
struct rec {
	char *buf;
	__u32 pos;
};

static __always_inline struct rec_header *hdr(struct rec *r)
{
	return (struct rec_header *)r->buf;
}

/* The next `size` bytes of the record, zeroed, for a part of that size. */
static __always_inline void *part(struct rec *r, __u32 size, __u16 flag)
{
	void *p = r->buf + (r->pos & POS_MASK);
	hdr(r)->parts |= flag;
	r->pos += size;
	return p;
}

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		*v += 1;
}

static __always_inline int is_write(__u32 nr)
{
	return nr == NR_write || nr == NR_pwrite64 || nr == NR_writev;
}

/* Starts a record of `kind` for `task` (its ids) in this CPU's scratch buffer; 0 if none. */
static __always_inline int begin(struct rec *r, __u16 kind, struct task_struct *task)
{
	__u32 zero = 0;
	union scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	r->buf = s->buf;
	r->pos = sizeof(struct rec_header);
	struct rec_header *h = hdr(r);
	__builtin_memset(h, 0, sizeof(*h));
	h->ts = bpf_ktime_get_boot_ns();
	h->kind = kind;
	h->tgid = BPF_CORE_READ(task, tgid);
	h->tid = BPF_CORE_READ(task, pid);
	return 1;
}

static __always_inline struct syscall_body *syscall_body(struct rec *r)
{
	struct syscall_body *b = (struct syscall_body *)(r->buf + sizeof(struct rec_header));
	__builtin_memset(b, 0, sizeof(*b));
	r->pos = sizeof(struct rec_header) + sizeof(*b);
	return b;
}

static __always_inline struct task_body *task_body(struct rec *r)
{
	struct task_body *b = (struct task_body *)(r->buf + sizeof(struct rec_header));
	__builtin_memset(b, 0, sizeof(*b));
	r->pos = sizeof(struct rec_header) + sizeof(*b);
	return b;
}

/* The part of the thread's context that decides whether to send it (effective ids, as
 * user.uid/group.gid report them, capability sets, session). */
static __always_inline void read_key(struct ctx_key *k, struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);
	k->uid = BPF_CORE_READ(cred, euid.val);
	k->gid = BPF_CORE_READ(cred, egid.val);
	bpf_core_read(&k->cap_permitted, sizeof(__u64), &cred->cap_permitted);
	bpf_core_read(&k->cap_effective, sizeof(__u64), &cred->cap_effective);
	struct pid *session = BPF_CORE_READ(task, signal, pids[PIDTYPE_SID]);
	if (session)
		k->sid = BPF_CORE_READ(session, numbers[0].nr);
}

/* Whether `tid`'s context must travel with this record: first sight, or changed since sent. */
static __always_inline int context_changed(__u32 tid, const struct ctx_key *k)
{
	struct ctx_key *sent = bpf_map_lookup_elem(&ctx_sent, &tid);
	return !sent || sent->uid != k->uid || sent->gid != k->gid || sent->sid != k->sid ||
	       sent->cap_permitted != k->cap_permitted || sent->cap_effective != k->cap_effective;
}

/* Appends the thread's context: `k`, then its lineage and name. */
static __always_inline struct context *add_context(struct rec *r, struct task_struct *task,
						   const struct ctx_key *k)
{
	struct context *c = part(r, sizeof(struct context), PART_CONTEXT);
	__builtin_memset(c, 0, sizeof(*c));
	c->uid = k->uid;
	c->gid = k->gid;
	c->cap_permitted = k->cap_permitted;
	c->cap_effective = k->cap_effective;
	c->sid = k->sid;
	c->ppid = BPF_CORE_READ(task, real_parent, tgid);
	c->loginuid = (__u32)-1;
	if (bpf_core_field_exists(task->loginuid))
		c->loginuid = BPF_CORE_READ(task, loginuid.val);
	BPF_CORE_READ_STR_INTO(&c->comm, task, comm);
	return c;
}

static __always_inline __u32 clamp_len(long n)
{
	if (n <= 0)
		return 0;
	if (n > STR_MAX)
		return STR_MAX;
	return (__u32)n;
}

/* Closes string `slot` after `n` bytes were written at `pos`. Slots are written in order. */
static __always_inline void end_str(struct rec *r, int slot, long n)
{
	__u32 len = clamp_len(n);
	if (slot >= 0 && slot < STR_SLOTS)
		hdr(r)->str_len[slot] = len;
	r->pos += len;
}

static __always_inline void user_str(struct rec *r, int slot, __u64 ptr)
{
	if (!ptr)
		return;
	long n = bpf_probe_read_user_str(r->buf + (r->pos & POS_MASK), STR_MAX, (const void *)ptr);
	/* Without the terminating NUL, which the next string (if any) overwrites. */
	end_str(r, slot, n - 1);
}

static __always_inline void user_bytes(struct rec *r, __u64 ptr, __u64 len)
{
	if (!ptr || len == 0)
		return;
	if (len > SOCKADDR_MAX)
		len = SOCKADDR_MAX;
	if (bpf_probe_read_user(r->buf + (r->pos & POS_MASK), len & (SOCKADDR_MAX * 2 - 1),
				(const void *)ptr) == 0)
		end_str(r, 0, len);
}

/*
 * The address of a `struct user_msghdr` (sendmsg, recvmsg) into slot 0; for sendmsg, the sum
 * of its first IOV_MAX_READ iovec lengths (the bytes the call was asked to send) replaces the
 * msghdr pointer in args[1].
 */
#define IOV_MAX_READ 16
static __always_inline void msghdr_args(struct rec *r, struct syscall_body *b, __u64 ptr,
					int sending)
{
	struct {
		__u64 name;
		__s32 namelen;
		__s32 pad;
		__u64 iov;
		__u64 iovlen;
	} m = {};
	if (!ptr || bpf_probe_read_user(&m, sizeof(m), (const void *)ptr))
		return;
	if (m.namelen > 0)
		user_bytes(r, m.name, m.namelen);
	if (!sending)
		return;
	__u64 total = 0;
	for (int i = 0; i < IOV_MAX_READ && i < m.iovlen; i++) {
		__u64 iov[2] = {};
		if (bpf_probe_read_user(iov, sizeof(iov), (const void *)(m.iov + i * sizeof(iov))))
			break;
		total += iov[1];
	}
	b->args[1] = total;
}

/* The open file behind `fd` of `task`, or 0. */
static __always_inline struct file *file_of_fd(struct task_struct *task, long fd)
{
	if (fd < 0)
		return 0;
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* Appends the socket tuple of `fd` of the current task, if it is a socket (before any string). */
static __always_inline void sock_of_fd(struct rec *r, struct task_struct *task, long fd)
{
	struct file *f = file_of_fd(task, fd);
	if (!f)
		return;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return;
	struct sock_tuple *t = part(r, sizeof(struct sock_tuple), PART_SOCK);
	__builtin_memset(t, 0, sizeof(*t));
	t->sock_type = BPF_CORE_READ(sock, type);
	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->remote_port = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (t->family == AF_INET) {
		__u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 b = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(t->local_addr, &a, 4);
		__builtin_memcpy(t->remote_addr, &b, 4);
	} else if (t->family == AF_INET6) {
		bpf_core_read(t->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(t->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

#define CGROUP_DEPTH 10
#define CGROUP_NAME_MAX 256

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return (struct kernfs_node *)BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* Appends the names of `cg` and its ancestors (leaf first, '/'-separated) to `out` at `off`. */
static __always_inline __u32 cgroup_names(char *out, struct cgroup *cg, __u32 off)
{
	struct kernfs_node *kn = BPF_CORE_READ(cg, kn);
	for (int i = 0; i < CGROUP_DEPTH && kn; i++) {
		struct kernfs_node *parent = kn_parent(kn);
		if (!parent) /* the root's name is not part of paths */
			break;
		const char *name = BPF_CORE_READ(kn, name);
		off &= STR_MAX / 2 - 1;
		long n = bpf_probe_read_kernel_str(&out[off], CGROUP_NAME_MAX, name);
		if (n <= 0)
			break;
		off += n; /* n counts the NUL, which becomes the separator */
		out[(off - 1) & (STR_MAX - 1)] = '/';
		kn = parent;
	}
	return off;
}

/*
 * Slot 2 of fork and exec records: the unified (v2) cgroup's names, a newline, then the v1 cpu
 * controller's, each leaf first. The container id lives in these names; reading them here
 * rather than /proc/PID/cgroup later also covers processes that exit at once.
 */
static __always_inline void cgroups(struct rec *r, struct task_struct *task)
{
	char *out = r->buf + (r->pos & POS_MASK);
	struct css_set *cs = BPF_CORE_READ(task, cgroups);
	__u32 off = cgroup_names(out, BPF_CORE_READ(cs, dfl_cgrp), 0);
	off &= STR_MAX / 2 - 1;
	out[off] = '\n';
	off += 1;
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id)) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
		if (id >= 0 && id < 16) {
			struct cgroup_subsys_state *css = 0;
			bpf_core_read(&css, sizeof(css), &cs->subsys[id]);
			if (css)
				off = cgroup_names(out, BPF_CORE_READ(css, cgroup), off);
		}
	}
	end_str(r, 2, off & (STR_MAX - 1));
}

/* Sends the record's used bytes; 0 on success (a failure is counted as a loss). */
static __always_inline int emit(struct rec *r)
{
	__u32 size = r->pos;
	if (size > RECORD_MAX)
		size = RECORD_MAX;
	struct rec_header *h = hdr(r);
	h->size = size;
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 flags = avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (h->kind != KIND_SYSCALL) {
		flags = BPF_RB_FORCE_WAKEUP;
	} else if (wakes_now(h->nr, h->ts)) {
		flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&events, r->buf, size, flags)) {
		count(STAT_LOST);
		return -1;
	}
	return 0;
}

/* The new file's f_mode after a successful open: FMODE_CREATED says whether the call created it. */
static __always_inline void fmode_of_fd(struct syscall_body *b, struct task_struct *task, long fd)
{
	struct file *f = file_of_fd(task, fd);
	if (f)
		b->f_mode = BPF_CORE_READ(f, f_mode);
}

/*
 * NS_CHILD_IN_PIDNS as the drivers judge it for the clone family: the task is in a child pid
 * namespace, or (seen from the parent) its children will be.
 */
static __always_inline __u32 ns_flags(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	if (!pid)
		return 0;
	if (BPF_CORE_READ(pid, level) != 0)
		return NS_CHILD_IN_PIDNS;
	struct pid_namespace *own = BPF_CORE_READ(pid, numbers[0].ns);
	struct pid_namespace *children = BPF_CORE_READ(task, nsproxy, pid_ns_for_children);
	return children && children != own ? NS_CHILD_IN_PIDNS : 0;
}

/*
 * Appends the parts `nr` uses beyond its registers (see the agent's convert): the socket tuple
 * first, then the strings from user memory in slot order.
 */
static __always_inline void capture_args(struct rec *r, struct syscall_body *b, __u32 nr,
					 struct task_struct *task)
{
	__u64 *a = b->args;
	switch (nr) {
	case NR_open:
	case NR_creat:
		user_str(r, 0, a[0]);
		fmode_of_fd(b, task, b->ret);
		break;
	case NR_chmod:
	case NR_unlink:
	case NR_chdir:
	case NR_umount2:
	case NR_memfd_create:
	case NR_execve:
	case NR_mkdir:
	case NR_rmdir:
		user_str(r, 0, a[0]);
		break;
	case NR_openat:
		user_str(r, 0, a[1]);
		fmode_of_fd(b, task, b->ret);
		break;
	case NR_unlinkat:
	case NR_fchmodat:
	case NR_execveat:
	case NR_mkdirat:
	case NR_finit_module:
		user_str(r, 0, a[1]);
		break;
	case NR_openat2: {
		/* struct open_how { u64 flags, mode, resolve; } replaces args 2..4. */
		__u64 how[3] = {};
		bpf_probe_read_user(how, sizeof(how), (const void *)a[2]);
		a[2] = how[0];
		a[3] = how[1];
		a[4] = how[2];
		user_str(r, 0, a[1]);
		fmode_of_fd(b, task, b->ret);
		break;
	}
	case NR_rename:
	case NR_link:
	case NR_symlink:
		user_str(r, 0, a[0]);
		user_str(r, 1, a[1]);
		break;
	case NR_renameat:
	case NR_renameat2:
	case NR_linkat:
		user_str(r, 0, a[1]);
		user_str(r, 1, a[3]);
		break;
	case NR_symlinkat:
		user_str(r, 0, a[0]);
		user_str(r, 1, a[2]);
		break;
	case NR_mount:
		user_str(r, 0, a[0]);
		user_str(r, 1, a[1]);
		user_str(r, 2, a[2]);
		break;
	case NR_init_module:
		user_str(r, 0, a[2]);
		break;
	case NR_connect:
	case NR_bind:
		sock_of_fd(r, task, a[0]);
		user_bytes(r, a[1], a[2]);
		break;
	case NR_listen:
		sock_of_fd(r, task, a[0]);
		break;
	case NR_accept:
	case NR_accept4:
		sock_of_fd(r, task, b->ret);
		break;
	case NR_sendto:
		sock_of_fd(r, task, a[0]);
		user_bytes(r, a[4], a[5]);
		break;
	case NR_recvfrom: {
		sock_of_fd(r, task, a[0]);
		/* The kernel wrote the sender's address and its length (through args[5]) at exit. */
		__s32 len = 0;
		if (b->ret >= 0 && a[5] && bpf_probe_read_user(&len, sizeof(len), (const void *)a[5]) == 0 &&
		    len > 0)
			user_bytes(r, a[4], len);
		break;
	}
	case NR_sendmsg:
	case NR_recvmsg:
		sock_of_fd(r, task, a[0]);
		msghdr_args(r, b, a[1], nr == NR_sendmsg);
		break;
	case NR_clone3: {
		/* struct clone_args starts with the u64 flags; they replace the pointer in args[0]. */
		__u64 flags = 0;
		bpf_probe_read_user(&flags, sizeof(flags), (const void *)a[0]);
		a[0] = flags;
		b->ns_flags = ns_flags(task);
		break;
	}
	case NR_clone:
	case NR_fork:
	case NR_vfork:
		b->ns_flags = ns_flags(task);
		break;
	}
}

/*
 * Everything is read at exit: the user registers saved at entry still hold the arguments
 * (the kernel writes only the return value), so no per-thread entry stash is needed. The one
 * exception, a successful exec, replaces the registers; it is reported by sched_process_exec.
 */
SEC("raw_tracepoint/sys_exit")
int sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long ret = ctx->args[1];
	__u32 nr = BPF_CORE_READ(regs, orig_ax);
	__u8 *on = bpf_map_lookup_elem(&syscall_on, &nr);
	if (!on || !*on)
		return 0;
	if ((nr == NR_execve || nr == NR_execveat) && ret == 0)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	if ((pid_tgid >> 32) == own_tgid) {
		count(STAT_FILTERED);
		return 0;
	}
	__u64 fd0 = BPF_CORE_READ(regs, di);
	if (dedup_ns && is_write(nr)) {
		__u64 key = (pid_tgid & 0xffffffff00000000ULL) | (__u32)fd0;
		__u64 now = bpf_ktime_get_boot_ns();
		__u64 *last = bpf_map_lookup_elem(&last_write, &key);
		if (last && now - *last < dedup_ns) {
			count(STAT_FILTERED);
			return 0;
		}
		bpf_map_update_elem(&last_write, &key, &now, BPF_ANY);
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct rec r;
	if (!begin(&r, KIND_SYSCALL, task))
		return 0;
	hdr(&r)->nr = nr;
	struct syscall_body *b = syscall_body(&r);
	b->ret = ret;
	b->args[0] = fd0;
	b->args[1] = BPF_CORE_READ(regs, si);
	b->args[2] = BPF_CORE_READ(regs, dx);
	b->args[3] = BPF_CORE_READ(regs, r10);
	b->args[4] = BPF_CORE_READ(regs, r8);
	b->args[5] = BPF_CORE_READ(regs, r9);
	struct ctx_key k = {};
	read_key(&k, task);
	__u32 tid = (__u32)pid_tgid;
	int send_context = context_changed(tid, &k);
	if (send_context)
		add_context(&r, task, &k);
	capture_args(&r, b, nr, task);
	if (emit(&r) == 0 && send_context)
		bpf_map_update_elem(&ctx_sent, &tid, &k, BPF_ANY);
	return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int process_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	/* Threads share their process's entry; children of the collector are ordinary processes. */
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	struct rec r;
	if (!begin(&r, KIND_FORK, child))
		return 0;
	task_body(&r);
	struct ctx_key k = {};
	read_key(&k, child);
	struct context *c = add_context(&r, child, &k);
	/* The forking process, even when CLONE_PARENT gave the child another real parent. */
	c->ppid = BPF_CORE_READ(parent, tgid);
	cgroups(&r, child);
	__u32 tid = hdr(&r)->tid;
	if (emit(&r) == 0)
		bpf_map_update_elem(&ctx_sent, &tid, &k, BPF_ANY);
	return 0;
}

#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/*
 * As Falco's drivers judge an exec'd image: a memfd is a root dentry named "memfd:…"; on
 * overlayfs the ovl_inode keeps its upper dentry right after the VFS inode, set (with an
 * inode) only when the file lives on the upper, writable layer.
 */
static __always_inline __u32 exe_flags(struct task_struct *task)
{
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	if (!exe)
		return 0;
	struct dentry *dentry = BPF_CORE_READ(exe, f_path.dentry);
	if (!dentry)
		return 0;
	__u32 flags = 0;
	if (BPF_CORE_READ(dentry, d_parent) == dentry) {
		char name[7] = {};
		const unsigned char *n = BPF_CORE_READ(dentry, d_name.name);
		if (n && bpf_probe_read_kernel_str(name, sizeof(name), n) == sizeof(name) && name[0] == 'm' &&
		    name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' && name[5] == ':')
			flags |= EXE_FROM_MEMFD;
	}
	if (BPF_CORE_READ(dentry, d_sb, s_magic) == OVERLAYFS_SUPER_MAGIC) {
		char *inode = (char *)BPF_CORE_READ(dentry, d_inode);
		struct dentry *upper = 0;
		__u32 inode_size = bpf_core_type_size(struct inode);
		if (inode && inode_size)
			bpf_probe_read_kernel(&upper, sizeof(upper), inode + inode_size);
		if (upper && BPF_CORE_READ(upper, d_inode, i_ino) != 0)
			flags |= EXE_UPPER_LAYER;
	}
	return flags;
}

SEC("raw_tracepoint/sched_process_exec")
int process_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	if (BPF_CORE_READ(task, tgid) == own_tgid)
		return 0;
	struct rec r;
	if (!begin(&r, KIND_EXEC, task))
		return 0;
	/* The new image keeps the syscall number: execve or execveat. */
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	hdr(&r)->nr = regs ? BPF_CORE_READ(regs, orig_ax) : NR_execve;
	task_body(&r)->exe_flags = exe_flags(task);
	struct ctx_key k = {};
	read_key(&k, task);
	add_context(&r, task, &k);
	const char *filename = BPF_CORE_READ(bprm, filename);
	long n = bpf_probe_read_kernel_str(r.buf + (r.pos & POS_MASK), STR_MAX, filename);
	end_str(&r, 0, n - 1);
	/* argv of the new image, NUL-separated, straight from its memory. */
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	__u64 len = end - start;
	if (end > start) {
		if (len > STR_MAX)
			len = STR_MAX;
		if (bpf_probe_read_user(r.buf + (r.pos & POS_MASK), len & (STR_MAX * 2 - 1),
					(const void *)start) == 0)
			end_str(&r, 1, len);
	}
	cgroups(&r, task);
	__u32 tid = hdr(&r)->tid;
	if (emit(&r) == 0)
		bpf_map_update_elem(&ctx_sent, &tid, &k, BPF_ANY);
	return 0;
}

/* Every thread's exit, as Falco's procexit; `ret` carries the kernel's exit code (wait status). */
SEC("raw_tracepoint/sched_process_exit")
int process_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	if (BPF_CORE_READ(task, tgid) == own_tgid)
		return 0;
	struct rec r;
	if (!begin(&r, KIND_EXIT, task))
		return 0;
	task_body(&r)->ret = BPF_CORE_READ(task, exit_code);
	struct ctx_key k = {};
	read_key(&k, task);
	add_context(&r, task, &k);
	__u32 tid = hdr(&r)->tid;
	bpf_map_delete_elem(&ctx_sent, &tid);
	emit(&r);
	return 0;
}

#include "enforce.h"

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Records shared with user space. The Rust mirror is collector/common/src/lib.rs; the agent's
 * `record_layout` test reads these structs from the compiled object's BTF and compares them
 * field by field (name, offset, size) with the Rust ones, so the two cannot drift apart.
 *
 * A record is variable-size, as Falco's modern_bpf events are: only what the event uses goes
 * through the ring buffer.
 *
 *   struct rec_header                 always; `size` is the whole record's length
 *   struct syscall_body | task_body   by kind (KIND_SYSCALL | KIND_FORK/EXEC/EXIT)
 *   struct context                    if parts & PART_CONTEXT
 *   struct sock_tuple                 if parts & PART_SOCK
 *   str_len[0] + str_len[1] + str_len[2] bytes of strings, packed, without NULs
 */
#pragma once

/* Bound of one string, as Falco's drivers bound paths and argv (a page). */
#define STR_MAX 4096
#define STR_SLOTS 3

enum record_kind {
	KIND_SYSCALL = 1,
	KIND_FORK = 2,
	KIND_EXEC = 3,
	KIND_EXIT = 4,
};

/* rec_header.parts: the optional parts present, in this order after the body. */
#define PART_CONTEXT 1
#define PART_SOCK 2

struct rec_header {
	__u64 ts;         /* CLOCK_BOOTTIME ns */
	__u32 tgid;
	__u32 tid;
	__u16 size;       /* bytes of the record, header included */
	__u16 nr;         /* syscall number (syscall and exec records) */
	__u16 kind;       /* enum record_kind */
	__u16 parts;      /* PART_* */
	__u16 str_len[STR_SLOTS];
	__u16 reserved;
};

/* A syscall's exit. */
struct syscall_body {
	__s64 ret;
	__u64 args[6];   /* as at entry; some replaced by dereferenced values (collector.bpf.c) */
	__u32 f_mode;    /* open family, on success: the new file's f_mode (FMODE_CREATED) */
	__u32 ns_flags;  /* clone family: NS_* */
};

/* sched_process_fork/exec/exit. */
struct task_body {
	__s64 ret;       /* exit: the kernel's exit code (a wait status) */
	__u32 exe_flags; /* exec: EXE_* */
	__u32 reserved;
};

/*
 * What libsinsp's thread table holds of a thread and the kernel knows best: sent when it
 * changes (see collector.bpf.c, `ctx_sent`), not with every event.
 */
struct context {
	__u64 cap_permitted; /* the thread's capability sets, bit N = capability N */
	__u64 cap_effective;
	__u32 uid;           /* effective ids, as user.uid/group.gid report them */
	__u32 gid;
	__u32 loginuid;      /* (u32)-1 when unset or without audit support */
	__u32 sid;           /* session id as the host sees it, 0 if unreadable */
	__u32 ppid;          /* the real parent's tgid */
	__u32 reserved;
	char comm[16];
};

struct sock_tuple {
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u16 family;
	__u16 local_port;
	__u16 remote_port;
	__u16 sock_type;
};

/* Where an exec's new image comes from (Falco's PPM_EXE_FROM_MEMFD / PPM_EXE_UPPER_LAYER). */
#define EXE_FROM_MEMFD 1
#define EXE_UPPER_LAYER 2

/* The clone family's task is in, or will create its children in, another pid namespace
 * (Falco's PPM_CL_CHILD_IN_PIDNS). */
#define NS_CHILD_IN_PIDNS 1

#define RECORD_MAX                                                                                  \
	(sizeof(struct rec_header) + sizeof(struct syscall_body) + sizeof(struct context) +        \
	 sizeof(struct sock_tuple) + STR_SLOTS * STR_MAX)

/* Indices of the per-CPU `stats` array. */
enum stat_index {
	STAT_LOST = 0,     /* ring-buffer reservation failures */
	STAT_FILTERED = 1, /* own pid, write de-duplication */
	STAT_COUNT = 2,
};

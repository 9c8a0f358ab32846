/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Records shared with user space; mirrored by collector/common/src/lib.rs (keep in sync). */
#pragma once

#define STR_MAX 4096
#define STR_SLOTS 3

enum record_kind {
	KIND_SYSCALL = 1,
	KIND_FORK = 2,
	KIND_EXEC = 3,
	KIND_EXIT = 4,
};

struct sock_tuple {
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u16 family;
	__u16 local_port;
	__u16 remote_port;
	__u16 sock_type;
};

struct raw_header {
	__u64 ts;
	__s64 ret;
	__u64 args[6];
	__u32 kind;
	__u32 nr;
	__u32 tgid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 loginuid;
	__u32 str_len[STR_SLOTS];
	__u32 size;
	struct sock_tuple sock;
	char comm[16];
	__u64 cap_permitted; /* the calling thread's capability sets */
	__u64 cap_effective;
	__u32 f_mode; /* open family: the new file's f_mode (FMODE_CREATED says the call created it) */
	__u32 sid;    /* the session id, as the host sees it */
	__u32 exe_flags; /* exec records: EXE_* */
	__u32 ns_flags;  /* clone family: NS_* */
};

/* Where an exec's new image comes from (Falco's PPM_EXE_FROM_MEMFD / PPM_EXE_UPPER_LAYER). */
#define EXE_FROM_MEMFD 1
#define EXE_UPPER_LAYER 2

/* The clone family's task is in, or will create its children in, another pid namespace
 * (Falco's PPM_CL_CHILD_IN_PIDNS). */
#define NS_CHILD_IN_PIDNS 1

struct record {
	struct raw_header h;
	char str[STR_SLOTS][STR_MAX];
};

_Static_assert(sizeof(struct sock_tuple) == 40, "sock_tuple layout");
_Static_assert(sizeof(struct raw_header) == 200, "raw_header layout");
_Static_assert(__builtin_offsetof(struct raw_header, kind) == 64, "raw_header layout");
_Static_assert(__builtin_offsetof(struct raw_header, str_len) == 96, "raw_header layout");
_Static_assert(__builtin_offsetof(struct raw_header, sock) == 112, "raw_header layout");
_Static_assert(__builtin_offsetof(struct raw_header, comm) == 152, "raw_header layout");
_Static_assert(__builtin_offsetof(struct raw_header, cap_effective) == 176, "raw_header layout");
_Static_assert(__builtin_offsetof(struct raw_header, f_mode) == 184, "raw_header layout");
_Static_assert(__builtin_offsetof(struct raw_header, sid) == 188, "raw_header layout");
_Static_assert(__builtin_offsetof(struct raw_header, exe_flags) == 192, "raw_header layout");
_Static_assert(__builtin_offsetof(struct raw_header, ns_flags) == 196, "raw_header layout");

/* Indices of the per-CPU `stats` array. */
enum stat_index {
	STAT_LOST = 0,     /* ring-buffer reservation failures */
	STAT_FILTERED = 1, /* own pid, write de-duplication */
	STAT_COUNT = 2,
};

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The few kernel types the program reads, declared by hand instead of a generated vmlinux.h so
 * the build needs no BTF on the build machine. Only the fields used are declared: with
 * preserve_access_index every access is a CO-RE relocation, resolved against the running
 * kernel's BTF at load time, so order and offsets here do not matter (anonymous unions in the
 * real types are matched by member name).
 */
#pragma once

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* x86_64 user register frame handed to raw_syscalls tracepoints. */
struct pt_regs {
	unsigned long di;
	unsigned long si;
	unsigned long dx;
	unsigned long r10;
	unsigned long r8;
	unsigned long r9;
	unsigned long orig_ax;
};

typedef struct {
	unsigned int val;
} kuid_t;

typedef struct {
	unsigned int val;
} kgid_t;

/* Before 6.3 `u32 cap[2]`, since `u64 val`: the same 8 bytes, read whole (never by member). */
typedef struct {
	__u64 val;
} kernel_cap_t;

struct cred {
	kuid_t euid;
	kgid_t egid;
	kernel_cap_t cap_permitted;
	kernel_cap_t cap_effective;
};

struct super_block {
	unsigned long s_magic;
};

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
};

struct qstr {
	const unsigned char *name;
};

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
	struct super_block *d_sb;
};

struct path {
	struct dentry *dentry;
};

struct file {
	void *private_data;
	struct inode *f_inode;
	unsigned int f_mode;
	struct path f_path;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	struct file *exe_file;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

/* Kernels from 6.15 name the parent `__parent`; older ones `parent` (see ___old below). */
struct kernfs_node {
	const char *name;
	struct kernfs_node *__parent;
};

struct kernfs_node___old {
	const char *name;
	struct kernfs_node___old *parent;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct cgroup_subsys_state {
	struct cgroup *cgroup;
};

struct css_set {
	struct cgroup_subsys_state *subsys[16];
	struct cgroup *dfl_cgrp;
};

struct pid_namespace;

struct upid {
	int nr;
	struct pid_namespace *ns;
};

/* `numbers` is a flexible array, one entry per pid namespace level; [0] is the host's. */
struct pid {
	unsigned int level;
	struct upid numbers[1];
};

struct nsproxy {
	struct pid_namespace *pid_ns_for_children;
};

typedef struct {
	int counter;
} atomic_t;

#define PIDTYPE_SID 3
struct signal_struct {
	struct pid *pids[4];
	atomic_t live; /* threads not yet exited */
};

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct mm_struct *mm;
	struct files_struct *files;
	const struct cred *cred;
	struct css_set *cgroups;
	kuid_t loginuid;
	char comm[16];
	struct signal_struct *signal;
	struct pid *thread_pid;
	struct nsproxy *nsproxy;
	int exit_code;
	unsigned int flags; /* PF_* */
	__u64 start_boottime; /* CLOCK_BOOTTIME ns; /proc/PID/stat's starttime in ticks */
};

struct linux_binprm {
	const char *filename;
};

struct rs_in6_addr {
	unsigned char bytes[16];
};

struct sock_common {
	unsigned int skc_daddr;
	unsigned int skc_rcv_saddr;
	unsigned short skc_dport;
	unsigned short skc_num;
	unsigned short skc_family;
	struct rs_in6_addr skc_v6_daddr;
	struct rs_in6_addr skc_v6_rcv_saddr;
};

struct sock {
	struct sock_common __sk_common;
};

struct socket {
	short type;
	struct sock *sk;
};

#pragma clang attribute pop

/* Only the value of cpu_cgrp_id matters; it is relocated against the running kernel. */
enum cgroup_subsys_id {
	cpu_cgrp_id = 1,
};

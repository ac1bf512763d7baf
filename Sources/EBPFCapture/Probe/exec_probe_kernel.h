/* The kernel types the exec probe reads, reduced to the fields it reads. CO-RE: every struct is
 * `preserve_access_index`, so libbpf relocates each field access against the running kernel's
 * BTF at load time; names matter, layout here does not. Written by hand so the build does not
 * depend on the build machine's BTF (no generated vmlinux.h). */
#ifndef EXEC_PROBE_KERNEL_H
#define EXEC_PROBE_KERNEL_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed int __s32;
typedef signed long long __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef int pid_t;

enum bpf_map_type {
    BPF_MAP_TYPE_HASH = 1,
    BPF_MAP_TYPE_ARRAY = 2,
    BPF_MAP_TYPE_PERCPU_ARRAY = 6,
    BPF_MAP_TYPE_RINGBUF = 27,
};

/* From linux/bpf.h (UAPI: these values never change). */
enum {
    BPF_F_MMAPABLE = 1U << 10,
};

enum {
    BPF_RB_NO_WAKEUP = 1,
    BPF_RB_FORCE_WAKEUP = 2,
};

enum {
    BPF_RB_AVAIL_DATA = 0,
    BPF_RB_RING_SIZE = 1,
};

struct bpf_dynptr {
    __u64 : 64;
    __u64 : 64;
} __attribute__((aligned(8)));

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
    unsigned int val;
} kuid_t;

struct qstr {
    const unsigned char *name;
};

struct dentry {
    struct dentry *d_parent;
    struct qstr d_name;
};

struct vfsmount {
    struct dentry *mnt_root;
};

struct mount {
    struct mount *mnt_parent;
    struct dentry *mnt_mountpoint;
    struct vfsmount mnt;
};

struct path {
    struct vfsmount *mnt;
    struct dentry *dentry;
};

struct file {
    struct path f_path;
};

struct fs_struct {
    struct path root;
    struct path pwd;
};

struct mm_struct {
    unsigned long arg_start;
    unsigned long arg_end;
    struct file *exe_file;
};

struct cred {
    kuid_t uid;
    kuid_t euid;
};

struct tty_struct {
    char name[64];
};

struct signal_struct {
    struct tty_struct *tty;
};

struct task_struct {
    pid_t pid;
    pid_t tgid;
    struct task_struct *real_parent;
    struct task_struct *group_leader;
    const struct cred *real_cred;
    kuid_t loginuid;
    unsigned int sessionid;
    struct signal_struct *signal;
    struct mm_struct *mm;
    struct fs_struct *fs;
    char comm[16];
    u64 start_boottime;
};

struct linux_binprm {
    const char *filename;
    const char *fdpath;
};

#pragma clang attribute pop

#endif

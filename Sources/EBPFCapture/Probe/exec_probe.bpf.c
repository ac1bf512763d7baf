// SPDX-License-Identifier: GPL-2.0
/* execwatch's exec probe: one program on `tp_btf/sched_process_exec`, which runs once per
 * successful exec, after the new program's memory is set up, and costs other system calls nothing.
 *
 * For each exec it writes to the ring buffer `records`:
 *   - zero or more ARGUMENTS chunks: the bytes of `mm->arg_start..arg_end` (argv, each argument
 *     NUL-terminated), CHUNK_BYTES at a time, at most MAX_CHUNKS (the rest is counted as truncated);
 *   - then one EXEC record: ids, names, and the paths resolved here (the process may be gone by
 *     the time user space reads them).
 * Both start with the same `cookie` (pid << 32 ^ exec time), which ties the chunks to their EXEC.
 * The byte layouts are the ones Sources/EBPFCapture/ProbeRecords.swift reads.
 *
 * Anything that could not be written (ring full) is counted per CPU in `lost`; nothing is lost
 * silently.
 *
 * Wake-ups: the agent says in `consumer` whether it sleeps until woken (1) or drains the ring on a
 * timer of its own (0, while records keep coming). In the first case every record wakes it; in
 * the second, only the exec of a program a rule names (`prompt_names`, or every exec while the
 * agent says so) and a ring filling up (a quarter full) do. So under a steady stream of execs no
 * rule names the agent wakes once per drain interval, not once per exec, and such an exec queues
 * no wake-up; one a rule names reaches it at once. */
#include "exec_probe_kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define RECORD_EXEC 1
#define RECORD_ARGUMENTS 2

#define CHUNK_BYTES 16384  /* a power of two: sizes are masked with CHUNK_BYTES - 1 */
#define MAX_CHUNKS 16      /* 256 KiB of argument bytes */
#define NAME_BYTES 256     /* NAME_MAX + 1 */
#define PATH_BYTES 4096    /* PATH_MAX: each path (and the filename) is cut there */
#define DATA_BYTES 16384   /* filename + exe + cwd + tty fit (4 × 4096 + 64 < 16384 + slack) */
#define PATH_COMPONENTS 128

/* EXEC flags. */
#define FLAG_ARGUMENTS_TRUNCATED 1 /* more than MAX_CHUNKS * CHUNK_BYTES of arguments */
#define FLAG_ARGUMENTS_INCOMPLETE 2 /* a chunk was not written or could not be read */
#define FLAG_EXE_TRUNCATED 4
#define FLAG_CWD_TRUNCATED 8
#define FLAG_BY_DESCRIPTOR 16 /* execveat with a directory descriptor: filename is "/dev/fd/N[/name]" */

struct exec_record {
    u32 kind;
    u32 flags;
    u64 cookie;
    u32 pid;
    u32 ppid;
    u32 uid;
    u32 euid;
    u32 auid;
    u32 sessionid;
    u64 start_boottime;
    u64 parent_start_boottime;
    u32 arguments_bytes; /* the size of arg_start..arg_end */
    u32 arguments_sent;  /* the bytes sent in chunks */
    u16 filename_bytes;  /* each without its NUL */
    u16 exe_bytes;       /* path components leaf first, each NUL-terminated */
    u16 cwd_bytes;       /* the same */
    u16 tty_bytes;
    char comm[16];
    char parent_comm[16];
    char data[DATA_BYTES + PATH_BYTES]; /* filename, exe, cwd, tty; slack for masked offsets */
};

struct arguments_record {
    u32 kind;
    u32 length;
    u64 cookie;
    u32 offset;
    u32 reserved;
    char data[CHUNK_BYTES];
};

/* The offsets ProbeRecords.swift reads. */
_Static_assert(__builtin_offsetof(struct exec_record, comm) == 72, "exec_record layout");
_Static_assert(__builtin_offsetof(struct exec_record, data) == 104, "exec_record layout");
_Static_assert(__builtin_offsetof(struct arguments_record, data) == 24, "arguments_record layout");
_Static_assert(BPF_RB_NO_WAKEUP + 1 == BPF_RB_FORCE_WAKEUP, "wake-up flags");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 8 << 20); /* the loader sets the configured size */
} records SEC(".maps");

/* Scratch space, one per CPU: records are built here, then copied into the ring. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct exec_record);
} exec_scratch SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, struct arguments_record);
} arguments_scratch SEC(".maps");

/* Counters per CPU: [0] records the ring had no room for, [1] reads of process memory that failed. */
#define LOST_RECORDS 0
#define FAILED_READS 1
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, u32);
    __type(value, u64);
} lost SEC(".maps");

/* What the agent says, through `consumer` (mapped into its memory, written by it). */
struct consumer_state {
    u32 sleeping;     /* 1 while it sleeps until a record wakes it, 0 while it drains on its own timer */
    u32 every_prompt; /* 1: every exec wakes it at once, whatever prompt_names holds */
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, u32);
    __type(value, struct consumer_state);
} consumer SEC(".maps");

/* A program name as `comm` holds it: at most 15 bytes, NUL-padded, here folded to lower case. */
#define PROMPT_NAME_BYTES 16
struct prompt_name {
    char bytes[PROMPT_NAME_BYTES];
};

/* The programs rules name (names longer than 15 bytes by their first 15), filled by the agent:
 * their execs wake it at once while it drains on its timer. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct prompt_name);
    __type(value, u8);
} prompt_names SEC(".maps");

/* The flags for committing a reserved EXEC record: wake the agent if the exec is prompt, if it
 * sleeps, or if the ring is a quarter full; else no wake-up. Forced, not the kernel's default
 * (which wakes only for the record right after the last one read): this EXEC record follows its
 * ARGUMENTS chunks. `sleeping` is read after the reservation, with an atomic operation (a full
 * barrier): the agent stores 1 and then looks at the ring, so either it sees this record's
 * reservation or this reads 1. */
static __always_inline u64 wakeup_flags(u32 prompt)
{
    u32 zero = 0;
    struct consumer_state *state = bpf_map_lookup_elem(&consumer, &zero);
    if (prompt || !state || __sync_fetch_and_add(&state->sleeping, 0) || state->every_prompt)
        return BPF_RB_FORCE_WAKEUP;
    if (bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >= bpf_ringbuf_query(&records, BPF_RB_RING_SIZE) / 4)
        return BPF_RB_FORCE_WAKEUP;
    return BPF_RB_NO_WAKEUP;
}

/* The flags for an ARGUMENTS chunk: no wake-up (the EXEC record that follows decides), unless the
 * ring is a quarter full. Without a branch: NO_WAKEUP + 1 is FORCE_WAKEUP (a branch per chunk
 * would double the states the verifier walks at each of the 16). */
static __always_inline u64 chunk_wakeup_flags(void)
{
    u64 filling = bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >= bpf_ringbuf_query(&records, BPF_RB_RING_SIZE) / 4;
    return BPF_RB_NO_WAKEUP + filling;
}

/* Copies `size` bytes of `data` into the ring as one record (a dynptr reservation: its size need not
 * be a constant), committed with wakeup_flags(prompt). 0, or a negative errno when it did not fit. */
static __always_inline long write_record(void *data, u32 size, u32 prompt)
{
    struct bpf_dynptr record;
    long error = bpf_ringbuf_reserve_dynptr(&records, size, 0, &record);
    if (error == 0)
        error = bpf_dynptr_write(&record, 0, data, size, 0);
    if (error != 0) {
        bpf_ringbuf_discard_dynptr(&record, BPF_RB_NO_WAKEUP);
        return error;
    }
    bpf_ringbuf_submit_dynptr(&record, wakeup_flags(prompt));
    return 0;
}

static __always_inline void count(u32 which)
{
    u64 *counter = bpf_map_lookup_elem(&lost, &which);
    if (counter)
        *counter += 1;
}

/* Whether `name` (a kernel string; its first 15 bytes), folded to lower case, is in prompt_names. */
static __always_inline u32 is_prompt_name(const void *name)
{
    struct prompt_name key = {};
    if (bpf_probe_read_kernel_str(key.bytes, PROMPT_NAME_BYTES, name) <= 1)
        return 0;
    for (int i = 0; i < PROMPT_NAME_BYTES; i++) {
        char c = key.bytes[i];
        key.bytes[i] = c + (((unsigned char)(c - 'A') < 26) << 5);
    }
    return bpf_map_lookup_elem(&prompt_names, &key) != NULL;
}

/* Whether a rule may name this exec's program: by `comm` (the last component of the path given to
 * execve, as `procName` and `invokedPath` have it) or by the executed file's name (`exePath`'s
 * last component). An exec of a descriptor is named by argv[0] (`procName`): always prompt. */
static __always_inline u32 is_prompt(const char *comm, struct file *exe, u32 by_descriptor)
{
    if (by_descriptor)
        return 1;
    if (is_prompt_name(comm))
        return 1;
    return exe && is_prompt_name(BPF_CORE_READ(exe, f_path.dentry, d_name.name));
}

/* One walk of a path towards the root (see write_path), as bpf_loop's callback state. */
struct path_walk {
    u64 dentry;
    u64 vfsmnt;
    u64 root_dentry;
    u64 root_mnt;
    u32 start;
    u32 written;
    u32 truncated;
};

/* One step of the walk: writes one component, or crosses to the mount below; 1 stops the loop. */
static long path_step(u64 index, struct path_walk *walk)
{
    u32 zero = 0;
    struct exec_record *record = bpf_map_lookup_elem(&exec_scratch, &zero);
    if (!record)
        return 1;
    struct dentry *dentry = (struct dentry *)walk->dentry;
    struct vfsmount *vfsmnt = (struct vfsmount *)walk->vfsmnt;
    if (walk->dentry == walk->root_dentry && walk->vfsmnt == walk->root_mnt) {
        walk->truncated = 0;
        return 1;
    }
    struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
    struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
    if (dentry == mnt_root || dentry == parent) {
        struct mount *mnt = (struct mount *)((char *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
        struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
        if (dentry != mnt_root || mnt_parent == mnt) {
            walk->truncated = 0; /* the global root (or a path unreachable from it): done */
            return 1;
        }
        walk->dentry = (u64)BPF_CORE_READ(mnt, mnt_mountpoint);
        walk->vfsmnt = (u64)mnt_parent + bpf_core_field_offset(struct mount, mnt);
        return 0;
    }
    if (walk->written > PATH_BYTES - NAME_BYTES)
        return 1; /* too long: truncated */
    const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
    u32 offset = (walk->start + walk->written) & (DATA_BYTES - 1);
    long length = bpf_probe_read_kernel_str(record->data + offset, NAME_BYTES, name);
    if (length <= 0)
        return 1;
    walk->written += length;
    walk->dentry = (u64)parent;
    return 0;
}

/* Writes the path of (vfsmnt, dentry) as seen from `root` into the scratch record's data at
 * `start`: its components leaf first, each NUL-terminated, crossing mount points as d_path does.
 * Returns the bytes written; sets *truncated when the path was longer than PATH_BYTES or
 * PATH_COMPONENTS. bpf_loop (Linux 5.17) has the verifier check the step once, not per turn. */
static __always_inline u32 write_path(u32 start, struct vfsmount *vfsmnt, struct dentry *dentry, struct path *root,
                                      u32 *truncated)
{
    struct path_walk walk = {
        .dentry = (u64)dentry,
        .vfsmnt = (u64)vfsmnt,
        .root_dentry = (u64)BPF_CORE_READ(root, dentry),
        .root_mnt = (u64)BPF_CORE_READ(root, mnt),
        .start = start,
        .written = 0,
        .truncated = 1,
    };
    bpf_loop(PATH_COMPONENTS, path_step, &walk, 0);
    *truncated = walk.truncated;
    return walk.written;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_probe, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
    u32 zero = 0;
    struct exec_record *record = bpf_map_lookup_elem(&exec_scratch, &zero);
    struct arguments_record *chunk = bpf_map_lookup_elem(&arguments_scratch, &zero);
    if (!record || !chunk)
        return 0;

    u32 pid = BPF_CORE_READ(task, tgid);
    u64 cookie = ((u64)pid << 32) ^ bpf_ktime_get_ns();
    record->kind = RECORD_EXEC;
    record->flags = 0;
    record->cookie = cookie;

    /* Arguments, in chunks, before the EXEC record they belong to. */
    struct mm_struct *mm = BPF_CORE_READ(task, mm);
    unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
    unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
    u64 total = arg_end > arg_start ? arg_end - arg_start : 0;
    record->arguments_bytes = total;
    u32 sent = 0;
    chunk->kind = RECORD_ARGUMENTS;
    chunk->cookie = cookie;
    chunk->reserved = 0;
    for (int i = 0; i < MAX_CHUNKS; i++) {
        if (sent >= total)
            break;
        u64 length = total - sent;
        if (length > CHUNK_BYTES)
            length = CHUNK_BYTES;
        length &= 2 * CHUNK_BYTES - 1;
        if (length > CHUNK_BYTES)
            break; /* cannot happen; tells the verifier the bound */
        if (bpf_probe_read_user(chunk->data, length, (void *)(arg_start + sent)) != 0) {
            count(FAILED_READS);
            record->flags |= FLAG_ARGUMENTS_INCOMPLETE;
            break;
        }
        chunk->offset = sent;
        chunk->length = length;
        if (bpf_ringbuf_output(&records, chunk, offsetof(struct arguments_record, data) + length,
                               chunk_wakeup_flags()) != 0) {
            count(LOST_RECORDS);
            record->flags |= FLAG_ARGUMENTS_INCOMPLETE;
            break;
        }
        sent += length;
    }
    if (sent < total && !(record->flags & FLAG_ARGUMENTS_INCOMPLETE))
        record->flags |= FLAG_ARGUMENTS_TRUNCATED;
    record->arguments_sent = sent;

    /* Ids. */
    struct task_struct *parent = BPF_CORE_READ(task, real_parent);
    record->pid = pid;
    record->ppid = BPF_CORE_READ(parent, tgid);
    record->uid = BPF_CORE_READ(task, real_cred, uid.val);
    record->euid = BPF_CORE_READ(task, real_cred, euid.val);
    record->auid = 0xffffffff;
    if (bpf_core_field_exists(task->loginuid))
        record->auid = BPF_CORE_READ(task, loginuid.val);
    record->sessionid = 0xffffffff;
    if (bpf_core_field_exists(task->sessionid))
        record->sessionid = BPF_CORE_READ(task, sessionid);
    record->start_boottime = BPF_CORE_READ(task, start_boottime);
    /* The parent process's start, as /proc/PPID/stat shows it: its leader's, since the thread
       that forked (real_parent) may be another of its threads, started later. */
    record->parent_start_boottime = BPF_CORE_READ(parent, group_leader, start_boottime);
    BPF_CORE_READ_STR_INTO(&record->comm, task, comm);
    BPF_CORE_READ_STR_INTO(&record->parent_comm, parent, comm);

    /* The path given to execve. */
    const char *filename = BPF_CORE_READ(bprm, filename);
    if (bpf_core_field_exists(bprm->fdpath) && BPF_CORE_READ(bprm, fdpath))
        record->flags |= FLAG_BY_DESCRIPTOR;
    long length = bpf_probe_read_kernel_str(record->data, PATH_BYTES, filename);
    u32 used = length > 0 ? length - 1 : 0;
    record->filename_bytes = used;
    used &= PATH_BYTES - 1;

    /* The file executed and the working directory, as seen from the process's root. */
    struct fs_struct *fs = BPF_CORE_READ(task, fs);
    struct path root;
    BPF_CORE_READ_INTO(&root, fs, root);
    u32 truncated = 0;
    struct file *exe = BPF_CORE_READ(mm, exe_file);
    u32 written = 0;
    if (exe)
        written = write_path(used, BPF_CORE_READ(exe, f_path.mnt), BPF_CORE_READ(exe, f_path.dentry),
                             &root, &truncated);
    if (truncated)
        record->flags |= FLAG_EXE_TRUNCATED;
    record->exe_bytes = written;
    used = (used + written) & (DATA_BYTES - 1);

    written = write_path(used, BPF_CORE_READ(fs, pwd.mnt), BPF_CORE_READ(fs, pwd.dentry), &root,
                         &truncated);
    if (truncated)
        record->flags |= FLAG_CWD_TRUNCATED;
    record->cwd_bytes = written;
    used = (used + written) & (DATA_BYTES - 1);

    /* The controlling terminal's name, as audit gives it ("pts0"). */
    record->tty_bytes = 0;
    struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
    if (tty) {
        length = bpf_probe_read_kernel_str(record->data + used, 64, &tty->name);
        if (length > 1) {
            record->tty_bytes = length - 1;
            used += length - 1;
        }
    }

    used &= DATA_BYTES - 1;
    u32 prompt = is_prompt(record->comm, exe, record->flags & FLAG_BY_DESCRIPTOR);
    if (write_record(record, offsetof(struct exec_record, data) + used, prompt) != 0)
        count(LOST_RECORDS);
    return 0;
}

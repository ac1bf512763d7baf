#ifndef EXECWATCH_CLIBBPF_SHIM_H
#define EXECWATCH_CLIBBPF_SHIM_H
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* LIBBPF_OPTS is a macro Swift cannot expand: opens an object from memory, with the kernel BTF
 * read from `btf_path` when it is not NULL (libbpf's btf_custom_path). NULL and errno on failure. */
static inline struct bpf_object *execwatch_bpf_object_open(const void *bytes, size_t size, const char *name,
                                                           const char *btf_path) {
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = name, .btf_custom_path = btf_path);
    return bpf_object__open_mem(bytes, size, &options);
}

/* libbpf's messages are printf-style (variadic, which Swift cannot take): the last warning is kept
 * here, so a failed load can say why, instead of going to standard error. */
static inline char *execwatch_libbpf_warning_buffer(void) {
    static char buffer[512];
    return buffer;
}

static inline int execwatch_libbpf_print(enum libbpf_print_level level, const char *format, va_list arguments) {
    if (level == LIBBPF_WARN) {
        char *buffer = execwatch_libbpf_warning_buffer();
        vsnprintf(buffer, 512, format, arguments);
        size_t length = strlen(buffer);
        while (length > 0 && buffer[length - 1] == '\n')
            buffer[--length] = 0;
    }
    return 0;
}

/* Sends libbpf's messages to the buffer above (none to standard error) and clears it. */
static inline void execwatch_libbpf_keep_last_warning(void) {
    execwatch_libbpf_warning_buffer()[0] = 0;
    libbpf_set_print(execwatch_libbpf_print);
}

static inline const char *execwatch_libbpf_last_warning_text(void) {
    return execwatch_libbpf_warning_buffer();
}

/* The descriptors of a probe loaded and attached by execwatch_load_probe_in_child: its link
 * (closing the last descriptor of it detaches the program), its ring buffer map, its counter map,
 * the map through which the agent says whether it sleeps until woken, and the map of the program
 * names whose execs wake it at once. */
struct execwatch_probe_descriptors {
    int link;
    int records;
    int lost;
    int consumer;
    int prompt_names;
};

/* Maps the probe's `consumer` map (one value of two u32s, BPF_F_MMAPABLE) into memory: NULL and
 * errno on failure. */
static inline unsigned *execwatch_map_consumer_flag(int descriptor) {
    void *mapped = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0);
    return mapped == MAP_FAILED ? NULL : (unsigned *)mapped;
}

static inline void execwatch_unmap_consumer_flag(unsigned *flag) {
    munmap(flag, (size_t)sysconf(_SC_PAGESIZE));
}

/* Stores the flag with a full barrier (sequentially consistent), so that the ring positions read
 * after it are read after the store: the probe reads the flag after reserving its record's place. */
static inline void execwatch_store_consumer_flag(unsigned *flag, unsigned value) {
    __atomic_store_n(flag, value, __ATOMIC_SEQ_CST);
}

/* The steps of loading, for saying which one failed. */
enum execwatch_probe_step {
    EXECWATCH_PROBE_OPEN = 1,
    EXECWATCH_PROBE_SIZE_RING = 2,
    EXECWATCH_PROBE_LOAD = 3,
    EXECWATCH_PROBE_ATTACH = 4,
    EXECWATCH_PROBE_HAND_OVER = 5,
};

/* What the child tells the parent: 0 or the errno of the failed step, and libbpf's last warning. */
struct execwatch_probe_reply {
    int error;
    int step;
    char warning[512];
};

/* Opens the probe object `bytes` (`size` bytes), sizes its ring buffer map `ring_map` to
 * `ring_bytes`, loads it against the kernel BTF at `btf_path` (NULL: the running kernel's),
 * attaches its program `program`, and hands back the link's and the maps' descriptors
 * (`lost_map`'s, `consumer_map`'s and `prompt_map`'s too) — all in a child process, which then
 * exits.
 *
 * Why a child: relocating the probe (CO-RE) makes libbpf read the kernel's BTF, about 5 MB, into
 * memory twice; in the agent that would raise its peak resident set by 11 MB for the moment of
 * loading. The child only runs C (libbpf), as fork in a multithreaded process allows: glibc's
 * malloc is usable after fork. The program stays attached as long as the returned link
 * descriptor is open.
 *
 * Returns 0; else the errno of the step that failed (`*step`), with libbpf's last warning in
 * `warning` (may be empty). */
static inline int execwatch_load_probe_in_child(const void *bytes, size_t size, const char *name,
                                                const char *btf_path, const char *ring_map, unsigned ring_bytes,
                                                const char *lost_map, const char *consumer_map,
                                                const char *prompt_map, const char *program,
                                                struct execwatch_probe_descriptors *descriptors, int *step,
                                                char *warning, size_t warning_size) {
    struct execwatch_probe_reply reply = {0};
    int pair[2];
    warning[0] = 0;
    *step = EXECWATCH_PROBE_HAND_OVER;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        return errno;
    pid_t child = fork();
    if (child < 0) {
        int code = errno;
        close(pair[0]);
        close(pair[1]);
        return code;
    }
    if (child == 0) {
        int sent[5] = {-1, -1, -1, -1, -1};
        close(pair[0]);
        execwatch_libbpf_keep_last_warning();
        struct bpf_object *object = execwatch_bpf_object_open(bytes, size, name, btf_path);
        struct bpf_map *records = object ? bpf_object__find_map_by_name(object, ring_map) : NULL;
        struct bpf_program *found = object ? bpf_object__find_program_by_name(object, program) : NULL;
        struct bpf_link *link = NULL;
        int loaded;
        if (!object) {
            reply.error = errno;
            reply.step = EXECWATCH_PROBE_OPEN;
        } else if (!records || bpf_map__set_max_entries(records, ring_bytes) != 0) {
            reply.error = records ? errno : ENOENT;
            reply.step = EXECWATCH_PROBE_SIZE_RING;
        } else if ((loaded = bpf_object__load(object)) != 0) {
            reply.error = -loaded;
            reply.step = EXECWATCH_PROBE_LOAD;
        } else if (!found || !(link = bpf_program__attach(found))) {
            reply.error = found ? errno : ENOENT;
            reply.step = EXECWATCH_PROBE_ATTACH;
        } else {
            sent[0] = bpf_link__fd(link);
            sent[1] = bpf_map__fd(records);
            sent[2] = bpf_object__find_map_fd_by_name(object, lost_map);
            sent[3] = bpf_object__find_map_fd_by_name(object, consumer_map);
            sent[4] = bpf_object__find_map_fd_by_name(object, prompt_map);
        }
        snprintf(reply.warning, sizeof reply.warning, "%s", execwatch_libbpf_last_warning_text());
        char control[CMSG_SPACE(sizeof sent)];
        memset(control, 0, sizeof control);
        struct iovec data = {.iov_base = &reply, .iov_len = sizeof reply};
        struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1};
        if (reply.error == 0 && sent[2] >= 0 && sent[3] >= 0 && sent[4] >= 0) {
            message.msg_control = control;
            message.msg_controllen = sizeof control;
            struct cmsghdr *header = CMSG_FIRSTHDR(&message);
            header->cmsg_level = SOL_SOCKET;
            header->cmsg_type = SCM_RIGHTS;
            header->cmsg_len = CMSG_LEN(sizeof sent);
            memcpy(CMSG_DATA(header), sent, sizeof sent);
        } else if (reply.error == 0) {
            reply.error = ENOENT;
            reply.step = EXECWATCH_PROBE_HAND_OVER;
        }
        _exit(sendmsg(pair[1], &message, MSG_NOSIGNAL) == (ssize_t)sizeof reply ? 0 : 1);
    }
    close(pair[1]);
    int received[5] = {-1, -1, -1, -1, -1};
    char control[CMSG_SPACE(sizeof received)];
    struct iovec data = {.iov_base = &reply, .iov_len = sizeof reply};
    struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control};
    ssize_t got;
    do {
        got = recvmsg(pair[0], &message, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    int code = got < 0 ? errno : 0;
    close(pair[0]);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
    if (got != (ssize_t)sizeof reply)
        return code ? code : EPROTO;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (header && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS &&
        header->cmsg_len == CMSG_LEN(sizeof received))
        memcpy(received, CMSG_DATA(header), sizeof received);
    snprintf(warning, warning_size, "%s", reply.warning);
    if (reply.error != 0) {
        for (int i = 0; i < 5; i++)
            if (received[i] >= 0)
                close(received[i]);
        *step = reply.step;
        return reply.error;
    }
    for (int i = 0; i < 5; i++)
        if (received[i] < 0)
            return EPROTO;
    descriptors->link = received[0];
    descriptors->records = received[1];
    descriptors->lost = received[2];
    descriptors->consumer = received[3];
    descriptors->prompt_names = received[4];
    return 0;
}
#endif

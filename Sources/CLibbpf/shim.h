#ifndef EXECWATCH_CLIBBPF_SHIM_H
#define EXECWATCH_CLIBBPF_SHIM_H
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
#endif

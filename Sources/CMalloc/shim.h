#ifndef EXECWATCH_CMALLOC_SHIM_H
#define EXECWATCH_CMALLOC_SHIM_H
/* glibc's allocator settings (`mallopt`, `M_TRIM_THRESHOLD`, `M_MMAP_THRESHOLD`): <malloc.h> is not
   part of Swift's Glibc module. */
#include <malloc.h>
#endif

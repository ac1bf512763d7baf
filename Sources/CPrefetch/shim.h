#ifndef EXECWATCH_CPREFETCH_SHIM_H
#define EXECWATCH_CPREFETCH_SHIM_H
/* Cache prefetch hints (`__builtin_prefetch`), which Swift has no spelling for. A hint never
   faults, whatever the address. */

/* Starts fetching the cache line at `address` for reading. */
static inline void execwatch_prefetch_for_reading(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/* Starts fetching the cache line at `address` for writing (owned by this CPU once it arrives). */
static inline void execwatch_prefetch_for_writing(const void *address) {
    __builtin_prefetch(address, 1, 3);
}
#endif

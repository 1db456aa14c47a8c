/*
 * The runtime of jhyve's benchmark guests: programs whose hot loop runs at CPL3, so that on hosts whose
 * KVM emulates every guest kernel-mode instruction (no VMX/SVM) a device path is measured rather than the
 * emulator. A program boots through PVH (../asm/bench-entry.s: jhyve and QEMU run the same binary), gets
 * long mode with the first 4 GiB identity-mapped and user-accessible, a TSS whose I/O permission bitmap
 * allows every port, and an IDT whose exception handler prints what happened and ends the VM. Then, at
 * CPL0, bench_main() finds and sets up its device and calls run_user(): from there on it runs at CPL3,
 * polls (interrupts stay off), reads the TSC for time, and ends with bench_exit().
 *
 * Arguments come from the kernel command line as key=value words (jhyve: -f kexec,PROGRAM,,ARGS;
 * QEMU: -append ARGS). Every result is one line starting "bench " on COM1.
 */
#ifndef JHYVE_BENCH_H
#define JHYVE_BENCH_H

#include "guest.h"

/* The program's part: set up the device at CPL0, then run_user(). */
void bench_main(void);

/* Runs fn at CPL3 on its own stack; never returns (fn ends the VM with bench_exit). */
__attribute__((noreturn)) void run_user(void (*fn)(void));

/* Ends the VM: ACPI power-off where the platform has jhyve's port, else a triple fault. Any CPL. */
__attribute__((noreturn)) void bench_exit(void);

/* Prints "bench error: why" and ends the VM. Any CPL. */
__attribute__((noreturn)) void bench_fail(const char *why);

/* The value of key=... on the command line, or def; numbers accept a K/M/G suffix (binary). */
u64 arg_u64(const char *key, u64 def);
/* The value of key=... (up to the next space) copied into buf (NUL-terminated), or def. */
const char *arg_str(const char *key, const char *def, char *buf, int size);
int str_eq(const char *a, const char *b);

/* Guest-physical memory below 4 GiB past the program, from the PVH memory map; zeroed, aligned (a power of two). */
void *alloc(u64 size, u64 align);
/* Makes [phys, phys+len) reachable from CPL3 at the same address (BARs above 4 GiB). CPL0 only. */
void map_user(u64 phys, u64 len);

static inline u64 rdtsc(void) {
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64)hi << 32 | lo;
}
/* TSC ticks per second, measured against the PIT at start-up. */
u64 tsc_hz(void);
u64 ticks_to_ns(u64 ticks);

/*
 * Latencies in TSC ticks, in buckets of 1/16 of a power of two (a relative error under 6.25%): enough for
 * p50 and p99, in fixed memory.
 */
struct latency { u64 count; u64 bucket[64 * 16]; };
void latency_add(struct latency *l, u64 ticks);
/* The latency below which per_mille thousandths of the samples lie, in ns (the bucket's upper edge). */
u64 latency_ns(const struct latency *l, int per_mille);

/* value / 10^decimals, printed with that many decimals. */
void put_fixed(u64 value, int decimals);
/* " key=value" pieces of a result line. */
void put_kv(const char *key, u64 value);
void put_kv_fixed(const char *key, u64 value, int decimals);
void put_kv_hex(const char *key, u64 value);
void put_kv_str(const char *key, const char *value);

static inline u64 xorshift64(u64 *state) {
    u64 x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* The frame bench-entry.s's exception stubs build. */
struct trap_frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error, rip, cs, rflags, rsp, ss;
};

#endif

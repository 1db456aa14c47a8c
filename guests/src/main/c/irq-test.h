/*
 * irq-test: a guest program that drives the local APIC (xAPIC, MMIO), its timer and an IOAPIC-routed
 * interrupt of COM1's 16550, so that one binary proves the same interrupt behaviour under every irqchip a
 * monitor offers (jhyve's in-kernel KVM one and its userspace one; QEMU with -kernel). It boots through PVH
 * with bench.h's runtime (bench-entry.s, bench.c: long mode, an IDT for exceptions, the TSC calibrated
 * against the PIT's channel 2), stays at CPL0, adds its own interrupt gates (../asm/irq-stubs.s), and prints
 * one line per check on COM1:
 *
 *   irq-test: check NAME ok
 *   irq-test: check NAME FAILED: what was seen
 *   irq-test: check NAME skipped: why
 *   irq-test: info NAME key=value ...        (measurements; they differ from run to run)
 *   irq-test: N passed, M failed, K skipped  (last, before the VM ends)
 *
 * Check lines hold no measurements, so two runs that behave alike print the same check lines. Guest
 * kernel-mode code may be emulated instruction by instruction (~1 us each), so intervals are milliseconds
 * and the loops that wait are short.
 */
#ifndef JHYVE_IRQ_TEST_H
#define JHYVE_IRQ_TEST_H

#include "bench.h"

/* Vectors: each test has its own, so a stray interrupt of one test cannot pass for another's. The class
 * (vector >> 4) is what the priority tests compare. irq-stubs.s has a gate for each of them. */
#define VEC_UART_EDGE 0x30
#define VEC_UART_LEVEL 0x31
#define VEC_TIMER_ONESHOT 0x40
#define VEC_TIMER_PERIODIC 0x41
#define VEC_TIMER_DEADLINE 0x42
#define VEC_TIMER_QUIET 0x43 /* masked and stopped timers: must never arrive */
#define VEC_SPURIOUS 0xff

/* xAPIC registers (Intel SDM vol. 3, table 11-1): offsets from the APIC's base. */
#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_PPR 0x0a0
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0

#define LVT_MASKED (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define ICR_SHORTHAND_SELF (1u << 18)
#define SVR_APIC_ENABLED (1u << 8)
#define DIVIDE_BY_1 0xb
#define DIVIDE_BY_16 0x3

#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0

#define IOAPIC_BASE 0xfec00000ul
#define IOAPIC_ID 0x00
#define IOAPIC_VERSION 0x01
#define IOAPIC_REDIRECTION(pin) (0x10 + 2 * (pin))
#define REDIR_LEVEL (1u << 15)
#define REDIR_REMOTE_IRR (1u << 14)
#define REDIR_DELIVERY_PENDING (1u << 12)
#define REDIR_MASKED (1u << 16)
#define COM1_IRQ 4

static inline void sti(void) { __asm__ volatile("sti" : : : "memory"); }
static inline void cli(void) { __asm__ volatile("cli" : : : "memory"); }
static inline u64 rdmsr(u32 msr) {
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (u64)hi << 32 | lo;
}
static inline void wrmsr(u32 msr, u64 v) { __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory"); }
static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* The local APIC at the base IA32_APIC_BASE names (irq-test.c finds it before any test runs). */
u32 apic_read(u32 reg);
void apic_write(u32 reg, u32 v);
/* Whether vector's bit is set in the 256-bit register array at reg (ISR, TMR, IRR). */
int apic_bit(u32 reg, u8 vector);
/* A fixed, edge self-IPI through the ICR's "self" shorthand. */
void apic_self_ipi(u8 vector);

u32 ioapic_read(u32 index);
void ioapic_write(u32 index, u32 v);

/* What the interrupt handler saw. Written by irq_dispatch, read by the tests with interrupts off or by polling. */
struct irq_log {
    volatile u32 count[256];
    volatile u64 first_tsc[256], last_tsc[256];
    volatile u8 order[32]; /* vectors in the order they arrived (the first 32) */
    volatile u32 arrived;
    /* Runs inside the handler for its vector, before the EOI (with interrupts off, unless it enables them). */
    void (*volatile hook[256])(void);
};
extern struct irq_log irq;
/* Forgets every count, time and the order (not the hooks). */
void irq_log_clear(void);

/* TSC ticks in ms milliseconds / us microseconds. */
u64 ms(u64 n);
u64 us(u64 n);
/* Spins for ticks with interrupts enabled, then disables them again. */
void spin_open(u64 ticks);
/* Spins with interrupts enabled until vector has arrived at least n times or ticks passed; disables them again
 * and returns whether it got there. */
int wait_for(u8 vector, u32 n, u64 ticks);

/* One check's verdict: ok when passed, else FAILED with detail (a few words of what was seen). */
void check(const char *name, int passed, const char *detail);
/* check() with "NAME: got G want W" style detail built from numbers. */
void check_value(const char *name, u64 got, u64 want);
void skip(const char *name, const char *why);
/* "irq-test: info NAME" then put_kv() pieces, then end_line(). */
void info(const char *name);
void end_line(void);

/* The test groups, in the order irq-test.c runs them. */
void test_local_apic(void);
void test_apic_timer(void);
void test_priority(void);
void test_ioapic_uart(void);

#endif

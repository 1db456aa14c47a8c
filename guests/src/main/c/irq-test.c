/* irq-test's runtime and its order of tests: see irq-test.h. */
#include "irq-test.h"

extern const u64 irq_stub_table[]; /* irq-stubs.s: (vector, stub) pairs, ended by vector 0 */
void irq_dispatch(struct trap_frame *f);

struct irq_log irq;
static u64 apic_base;
static u32 passed, failed, skipped;

u32 apic_read(u32 reg) { return mmio_read32(apic_base + reg); }
void apic_write(u32 reg, u32 v) { mmio_write32(apic_base + reg, v); }

int apic_bit(u32 reg, u8 vector) { return (apic_read(reg + 0x10 * (vector / 32)) >> (vector % 32)) & 1; }

void apic_self_ipi(u8 vector) {
    apic_write(APIC_ICR_HIGH, 0);
    apic_write(APIC_ICR_LOW, ICR_SHORTHAND_SELF | vector);
}

u32 ioapic_read(u32 index) {
    mmio_write32(IOAPIC_BASE, index);
    return mmio_read32(IOAPIC_BASE + 0x10);
}

void ioapic_write(u32 index, u32 v) {
    mmio_write32(IOAPIC_BASE, index);
    mmio_write32(IOAPIC_BASE + 0x10, v);
}

void irq_dispatch(struct trap_frame *f) {
    u8 v = (u8)f->vector;
    u64 now = rdtsc();
    if (!irq.count[v]) irq.first_tsc[v] = now;
    irq.last_tsc[v] = now;
    irq.count[v]++;
    if (irq.arrived < sizeof irq.order) irq.order[irq.arrived] = v;
    irq.arrived++;
    if (irq.hook[v]) irq.hook[v]();
    /* A spurious interrupt sets no ISR bit, so it takes no EOI (SDM 11.9). */
    if (v != VEC_SPURIOUS) apic_write(APIC_EOI, 0);
}

void irq_log_clear(void) {
    for (int v = 0; v < 256; v++) irq.count[v] = 0, irq.first_tsc[v] = 0, irq.last_tsc[v] = 0;
    irq.arrived = 0;
}

u64 ms(u64 n) { return tsc_hz() * n / 1000; }
u64 us(u64 n) { return tsc_hz() * n / 1000000; }

void spin_open(u64 ticks) {
    u64 end = rdtsc() + ticks;
    sti();
    while (rdtsc() < end) cpu_relax();
    cli();
}

int wait_for(u8 vector, u32 n, u64 ticks) {
    u64 end = rdtsc() + ticks;
    sti();
    while (irq.count[vector] < n && rdtsc() < end) cpu_relax();
    cli();
    return irq.count[vector] >= n;
}

static void verdict_start(const char *name) {
    puts("irq-test: check ");
    puts(name);
}

void check(const char *name, int ok, const char *detail) {
    verdict_start(name);
    if (ok) {
        passed++;
        puts(" ok\r\n");
    } else {
        failed++;
        puts(" FAILED: ");
        puts(detail);
        puts("\r\n");
    }
}

void check_value(const char *name, u64 got, u64 want) {
    verdict_start(name);
    if (got == want) {
        passed++;
        puts(" ok\r\n");
        return;
    }
    failed++;
    puts(" FAILED: got 0x");
    puthex(got, 8);
    puts(" want 0x");
    puthex(want, 8);
    puts("\r\n");
}

void skip(const char *name, const char *why) {
    skipped++;
    verdict_start(name);
    puts(" skipped: ");
    puts(why);
    puts("\r\n");
}

void info(const char *name) {
    puts("irq-test: info ");
    puts(name);
}

void end_line(void) { puts("\r\n"); }

/* Interrupt gates for irq-stubs.s's vectors in the IDT bench.c loaded (256 entries: its limit says so). */
static void install_gates(void) {
    struct { u16 limit; u64 base; } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    if (idtr.limit < 256 * 16 - 1) bench_fail("the IDT has no room for interrupt vectors");
    for (const u64 *s = irq_stub_table; s[0]; s += 2) {
        u8 *gate = (u8 *)(idtr.base + 16 * s[0]);
        u64 at = s[1];
        *(u16 *)gate = (u16)at;
        *(u16 *)(gate + 2) = 0x08;     /* the kernel code selector bench-entry.s's GDT has */
        gate[4] = 0;                   /* no IST: the interrupted stack is the one stack there is */
        gate[5] = 0x8e;                /* present, DPL 0, 64-bit interrupt gate (IF cleared on entry) */
        *(u16 *)(gate + 6) = (u16)(at >> 16);
        *(u32 *)(gate + 8) = (u32)(at >> 32);
        *(u32 *)(gate + 12) = 0;
    }
}

/* The 8259As initialised and fully masked: KVM leaves the BSP's LINT0 in ExtINT mode, so an unmasked PIC
 * would deliver COM1's IRQ 4 a second time, besides the IOAPIC. Their vectors (0x20-0x2f) have no gate. */
static void mask_pics(void) {
    outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01); outb(0x21, 0xff);
    outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01); outb(0xa1, 0xff);
}

void bench_main(void) {
    cli();
    install_gates();
    mask_pics();
    u64 base_msr = rdmsr(MSR_APIC_BASE);
    apic_base = base_msr & 0xffffff000ul;
    info("start");
    put_kv("tsc_khz", tsc_hz() / 1000);
    put_kv_hex("apic_base_msr", base_msr);
    end_line();

    test_local_apic();
    test_apic_timer();
    test_priority();
    test_ioapic_uart();

    info("end");
    put_kv("spurious", irq.count[VEC_SPURIOUS]);
    end_line();
    puts("irq-test: ");
    putdec(passed);
    puts(" passed, ");
    putdec(failed);
    puts(" failed, ");
    putdec(skipped);
    puts(" skipped\r\n");
    bench_exit();
}

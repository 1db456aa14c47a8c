/* The runtime of jhyve's benchmark guests: see bench.h. Everything before run_user() runs at CPL0 and may be
 * emulated instruction by instruction (hosts without VMX/SVM): loops here stay short. */
#include "bench.h"

extern char _end[];
extern u64 gdt_tss[2];
extern const u64 trap_stubs[32];
extern u64 pml4[512];
extern const struct { u16 limit; u64 base; } __attribute__((packed)) gdt_pointer;
__attribute__((noreturn)) void enter_user(void (*rip)(void), u64 rsp);
__attribute__((noreturn)) void triple_fault(void);
void bench_start(u32 start_info);
void bench_trap(struct trap_frame *f);

#define TSS_SELECTOR 0x30
#define BENCH_CALL_EXIT 0x42454e4348ul /* "BENCH": rax of the int3 bench_exit makes from CPL3 */
#define PIT_HZ 1193182u
#define CALIBRATION_TICKS 59659u       /* 50 ms of the PIT */

/* A 64-bit TSS and its I/O permission bitmap: all zeroes (every port allowed at CPL3), then the 0xff the
 * processor reads past the last byte. */
struct tss {
    u32 reserved0;
    u64 rsp0, rsp1, rsp2;
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
    u8 iomap[8192];
    u8 iomap_end;
} __attribute__((packed));

struct idt_entry { u16 offset_low, selector; u8 ist, type; u16 offset_mid; u32 offset_high, reserved; };

static struct tss tss __attribute__((aligned(16)));
static struct idt_entry idt[256] __attribute__((aligned(16)));
static u8 trap_stack[16384] __attribute__((aligned(16)));
static u8 page_pool[16][4096] __attribute__((aligned(4096)));
static int pages_used;
static char cmdline[1024];
static u64 heap_next, heap_end;
static u64 tsc_per_second;

/* Eight bytes a store: memset would be one emulated instruction per byte. */
static void zero64(void *p, u64 bytes) {
    u64 *q = p;
    for (u64 i = 0; i < bytes / 8; i++) q[i] = 0;
}

static void setup_tss(void) {
    tss.rsp0 = (u64)(trap_stack + sizeof trap_stack);
    tss.iomap_base = (u16)((u64)&tss.iomap - (u64)&tss);
    tss.iomap_end = 0xff; /* the bitmap itself is bss: zero */
    u64 base = (u64)&tss, limit = sizeof tss - 1;
    gdt_tss[0] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ul << 40 /* present, 64-bit TSS */
                 | ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
    gdt_tss[1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(TSS_SELECTOR));
}

static void setup_idt(void) {
    for (int v = 0; v < 32; v++) {
        u64 at = trap_stubs[v];
        idt[v].offset_low = (u16)at;
        idt[v].selector = 0x08;
        /* Interrupt gates; #BP's may be raised from CPL3 (DPL 3): bench_exit's way into CPL0. */
        idt[v].type = v == 3 ? 0xee : 0x8e;
        idt[v].offset_mid = (u16)(at >> 16);
        idt[v].offset_high = (u32)(at >> 32);
    }
    struct { u16 limit; u64 base; } __attribute__((packed)) p = { sizeof idt - 1, (u64)idt };
    __asm__ volatile("lidt %0" : : "m"(p));
}

/* PVH's hvm_start_info (version 1): the command line and the memory map. */
static void read_start_info(u32 at) {
    const u8 *si = (const u8 *)(u64)at;
    if (*(const u32 *)si != 0x336ec578u) bench_fail("no PVH start info");
    const char *cl = (const char *)*(const u64 *)(si + 24);
    int n = 0;
    if (cl) while (cl[n] && n < (int)sizeof cmdline - 1) { cmdline[n] = cl[n]; n++; }
    cmdline[n] = 0;
    heap_next = ((u64)_end + 0xfffff) & ~0xffffful;
    heap_end = 0;
    u32 version = *(const u32 *)(si + 4);
    u32 entries = version >= 1 ? *(const u32 *)(si + 48) : 0;
    const u8 *map = version >= 1 ? (const u8 *)*(const u64 *)(si + 40) : 0;
    for (u32 i = 0; i < entries && map; i++) {
        u64 addr = *(const u64 *)(map + 24 * i), size = *(const u64 *)(map + 24 * i + 8);
        u32 type = *(const u32 *)(map + 24 * i + 16);
        if (type == 1 && addr <= heap_next && heap_next < addr + size) heap_end = addr + size;
    }
    if (heap_end > 0x100000000ul) heap_end = 0x100000000ul;
    if (heap_end <= heap_next) bench_fail("no RAM after the program in the PVH memory map");
}

/* The PIT's channel 2 counts CALIBRATION_TICKS down with its gate open (port 0x61), as Linux calibrates. */
static void calibrate_tsc(void) {
    outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
    outb(0x43, 0xb0);                        /* channel 2, low then high byte, mode 0 */
    outb(0x42, CALIBRATION_TICKS & 0xff);
    outb(0x42, CALIBRATION_TICKS >> 8);
    u64 start = rdtsc();
    u32 polls = 0;
    while (!(inb(0x61) & 0x20)) {
        if (++polls > 10000000u) bench_fail("the PIT's channel 2 never counted down");
    }
    u64 ticks = rdtsc() - start;
    tsc_per_second = ticks * PIT_HZ / CALIBRATION_TICKS;
    if (tsc_per_second < 10000000ul) bench_fail("TSC calibration gave under 10 MHz");
}

void bench_start(u32 start_info) {
    uart_init();
    setup_tss();
    setup_idt();
    read_start_info(start_info);
    calibrate_tsc();
    bench_main();
    bench_fail("bench_main returned");
}

void run_user(void (*fn)(void)) {
    u8 *stack = alloc(65536, 4096);
    enter_user(fn, (u64)(stack + 65536));
}

static int at_cpl3(void) {
    u16 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    return (cs & 3) == 3;
}

void bench_exit(void) {
    outw(PM1A_CNT, S5_POWER_OFF); /* jhyve's ACPI power-off; nothing on QEMU's q35 */
    if (at_cpl3()) __asm__ volatile("int3" : : "a"(BENCH_CALL_EXIT));
    triple_fault();
}

void bench_fail(const char *why) {
    puts("bench error: ");
    puts(why);
    puts("\r\n");
    bench_exit();
}

void bench_trap(struct trap_frame *f) {
    if (f->vector == 3 && (f->cs & 3) == 3 && f->rax == BENCH_CALL_EXIT) triple_fault();
    u64 cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    puts("bench error: exception");
    put_kv("vector", f->vector);
    put_kv_hex("error", f->error);
    put_kv_hex("rip", f->rip);
    put_kv_hex("cs", f->cs);
    put_kv_hex("cr2", cr2);
    puts("\r\n");
    triple_fault();
}

int str_eq(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

/* The value of key=... in the command line, or 0. */
static const char *find_arg(const char *key) {
    for (const char *p = cmdline; *p; ) {
        while (*p == ' ') p++;
        const char *k = key, *q = p;
        while (*k && *q == *k) { k++; q++; }
        if (!*k && *q == '=') return q + 1;
        while (*p && *p != ' ') p++;
    }
    return 0;
}

const char *arg_str(const char *key, const char *def, char *buf, int size) {
    const char *v = find_arg(key);
    if (!v) return def;
    int n = 0;
    while (v[n] && v[n] != ' ' && n < size - 1) { buf[n] = v[n]; n++; }
    buf[n] = 0;
    return buf;
}

__attribute__((noreturn)) static void bad_number(const char *key) {
    puts("bench error: ");
    puts(key);
    puts("= needs a number (with K, M or G if you like)\r\n");
    bench_exit();
}

u64 arg_u64(const char *key, u64 def) {
    const char *v = find_arg(key);
    if (!v) return def;
    u64 n = 0;
    int digits = 0;
    for (; *v >= '0' && *v <= '9'; v++, digits++) n = n * 10 + (u64)(*v - '0');
    if (!digits) bad_number(key);
    switch (*v) {
    case 'K': case 'k': n <<= 10; v++; break;
    case 'M': case 'm': n <<= 20; v++; break;
    case 'G': case 'g': n <<= 30; v++; break;
    }
    if (*v && *v != ' ') bad_number(key);
    return n;
}

void *alloc(u64 size, u64 align) {
    u64 at = (heap_next + align - 1) & ~(align - 1);
    if (at + size > heap_end || at + size < at) bench_fail("out of guest memory (give the VM more RAM)");
    heap_next = at + size;
    return (void *)at;
}

static u64 *table_at(u64 *entry) {
    if (!(*entry & 1)) {
        if (pages_used == (int)(sizeof page_pool / sizeof page_pool[0])) bench_fail("out of page-table pages");
        u8 *page = page_pool[pages_used++];
        zero64(page, 4096);
        *entry = (u64)page | 0x07;
    }
    return (u64 *)(*entry & ~0xffful);
}

void map_user(u64 phys, u64 len) {
    for (u64 at = phys & ~0x1ffffful; at < phys + len; at += 0x200000) {
        u64 *pdpt = table_at(&pml4[(at >> 39) & 511]);
        u64 *pd = table_at(&pdpt[(at >> 30) & 511]);
        pd[(at >> 21) & 511] = at | 0x87;
    }
    u64 cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}

u64 tsc_hz(void) { return tsc_per_second; }

u64 ticks_to_ns(u64 ticks) {
    u64 hz = tsc_per_second;
    return ticks / hz * 1000000000ul + ticks % hz * 1000000000ul / hz;
}

static int msb(u64 v) { return 63 - __builtin_clzl(v); }

void latency_add(struct latency *l, u64 ticks) {
    int index;
    if (ticks < 16) {
        index = (int)ticks;
    } else {
        int o = msb(ticks);
        index = (o - 3) * 16 + (int)((ticks >> (o - 4)) & 15);
    }
    l->bucket[index]++;
    l->count++;
}

u64 latency_ns(const struct latency *l, int per_mille) {
    if (!l->count) return 0;
    u64 want = (l->count * (u64)per_mille + 999) / 1000, seen = 0;
    for (int i = 0; i < 64 * 16; i++) {
        seen += l->bucket[i];
        if (seen >= want && seen) {
            if (i < 16) return ticks_to_ns((u64)i);
            int o = i / 16 + 3, sub = i % 16;
            u64 low = (u64)(16 + sub) << (o - 4), width = 1ul << (o - 4);
            return ticks_to_ns(low + width / 2);
        }
    }
    return 0;
}

void put_fixed(u64 value, int decimals) {
    u64 scale = 1;
    for (int i = 0; i < decimals; i++) scale *= 10;
    putdec(value / scale);
    if (!decimals) return;
    putc('.');
    u64 rest = value % scale;
    for (u64 s = scale / 10; s; s /= 10) { putc((char)('0' + rest / s)); rest %= s; }
}

void put_kv(const char *key, u64 value) { putc(' '); puts(key); putc('='); putdec(value); }

void put_kv_fixed(const char *key, u64 value, int decimals) { putc(' '); puts(key); putc('='); put_fixed(value, decimals); }

void put_kv_hex(const char *key, u64 value) {
    putc(' ');
    puts(key);
    puts("=0x");
    int digits = 1;
    while (digits < 16 && value >> (4 * digits)) digits++;
    puthex(value, digits);
}

void put_kv_str(const char *key, const char *value) { putc(' '); puts(key); putc('='); puts(value); }

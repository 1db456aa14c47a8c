/* Freestanding support for jhyve's C guest programs: see guest.h. */
#include "guest.h"

void uart_init(void) {
    outb(COM1 + 3, 0x80); /* DLAB */
    outb(COM1 + 0, 1);    /* 115200 baud */
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0x07); /* FIFOs on, cleared */
}

void putc(char c) {
    while (!(inb(COM1 + 5) & 0x20)) cpu_relax();
    outb(COM1, (u8)c);
}

void puts(const char *s) {
    while (*s) putc(*s++);
}

void puthex(u64 v, int digits) {
    for (int i = digits - 1; i >= 0; i--) putc("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

void putdec(u64 v) {
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) putc(buf[--n]);
}

void power_off(void) {
    outw(PM1A_CNT, S5_POWER_OFF);
    for (;;) __asm__ volatile("cli; hlt");
}

static u32 pci_address(int bus, int dev, int fn, int off) {
    return 0x80000000u | (u32)bus << 16 | (u32)dev << 11 | (u32)fn << 8 | (u32)(off & 0xfc);
}

u32 pci_read32(int bus, int dev, int fn, int off) {
    outl(0xcf8, pci_address(bus, dev, fn, off));
    return inl(0xcfc);
}

void pci_write32(int bus, int dev, int fn, int off, u32 v) {
    outl(0xcf8, pci_address(bus, dev, fn, off));
    outl(0xcfc, v);
}

u8 pci_read8(int bus, int dev, int fn, int off) { return (u8)(pci_read32(bus, dev, fn, off) >> (8 * (off & 3))); }

u16 pci_read16(int bus, int dev, int fn, int off) { return (u16)(pci_read32(bus, dev, fn, off) >> (8 * (off & 2))); }

void pci_write16(int bus, int dev, int fn, int off, u16 v) {
    u32 old = pci_read32(bus, dev, fn, off);
    int shift = 8 * (off & 2);
    pci_write32(bus, dev, fn, off, (old & ~(0xffffu << shift)) | (u32)v << shift);
}

void *memset(void *d, int c, u64 n) {
    u8 *p = d;
    while (n--) *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, u64 n) {
    u8 *p = d;
    const u8 *q = s;
    while (n--) *p++ = *q++;
    return d;
}

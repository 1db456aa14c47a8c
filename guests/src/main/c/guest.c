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

void fail(const char *why) {
    puts(why);
    puts("\r\n");
    power_off();
}

int pci_find_device(u16 vendor, u16 device) {
    for (int dev = 0; dev < 32; dev++) {
        u32 id = pci_read32(0, dev, 0, 0);
        if ((id & 0xffff) == vendor && (id >> 16) == device) return dev;
    }
    return -1;
}

#define CAP_VENDOR 0x09
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_DEVICE 4

/* Common configuration registers (virtio 1.2, 4.1.4.3). */
#define DEVICE_FEATURE_SELECT 0x00
#define DEVICE_FEATURE 0x04
#define DRIVER_FEATURE_SELECT 0x08
#define DRIVER_FEATURE 0x0c
#define DEVICE_STATUS 0x14
#define QUEUE_SELECT 0x16
#define QUEUE_SIZE 0x18
#define QUEUE_MSIX_VECTOR 0x1a
#define QUEUE_ENABLE 0x1c
#define QUEUE_NOTIFY_OFF 0x1e
#define QUEUE_DESC 0x20
#define QUEUE_DRIVER 0x28
#define QUEUE_DEVICE 0x30

#define S_ACKNOWLEDGE 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8

/* The MMIO address a virtio capability points at: its BAR's base plus its offset. */
static u64 cap_address(int dev, int cap) {
    int bar = pci_read8(0, dev, 0, cap + 4);
    u32 offset = pci_read32(0, dev, 0, cap + 8);
    u32 low = pci_read32(0, dev, 0, 0x10 + 4 * bar);
    u64 base = low & ~0xfu;
    if ((low & 0x6) == 0x4) base |= (u64)pci_read32(0, dev, 0, 0x10 + 4 * bar + 4) << 32;
    return base + offset;
}

void virtio_map(struct virtio_pci *v, int dev) {
    v->common = v->notify = v->device_cfg = 0;
    v->notify_multiplier = 0;
    if (!(pci_read16(0, dev, 0, 0x06) & 0x10)) fail("no capability list");
    for (int cap = pci_read8(0, dev, 0, 0x34) & 0xfc; cap; cap = pci_read8(0, dev, 0, cap + 1) & 0xfc) {
        if (pci_read8(0, dev, 0, cap) != CAP_VENDOR) continue;
        switch (pci_read8(0, dev, 0, cap + 3)) {
        case CFG_COMMON: if (!v->common) v->common = cap_address(dev, cap); break;
        case CFG_NOTIFY:
            if (!v->notify) {
                v->notify = cap_address(dev, cap);
                v->notify_multiplier = pci_read32(0, dev, 0, cap + 16);
            }
            break;
        case CFG_DEVICE: if (!v->device_cfg) v->device_cfg = cap_address(dev, cap); break;
        }
    }
    if (!v->common || !v->notify || !v->device_cfg) fail("missing virtio capabilities");
}

static u64 device_features(struct virtio_pci *v) {
    mmio_write32(v->common + DEVICE_FEATURE_SELECT, 0);
    u64 f = mmio_read32(v->common + DEVICE_FEATURE);
    mmio_write32(v->common + DEVICE_FEATURE_SELECT, 1);
    return f | (u64)mmio_read32(v->common + DEVICE_FEATURE) << 32;
}

u64 virtio_negotiate(struct virtio_pci *v, u64 wanted) {
    u64 common = v->common;
    mmio_write8(common + DEVICE_STATUS, 0);
    while (mmio_read8(common + DEVICE_STATUS) != 0) cpu_relax();
    mmio_write8(common + DEVICE_STATUS, S_ACKNOWLEDGE);
    mmio_write8(common + DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER);
    u64 offered = device_features(v);
    wanted &= offered;
    if (!(wanted & 1ul << VIRTIO_F_VERSION_1)) fail("device does not offer VERSION_1");
    mmio_write32(common + DRIVER_FEATURE_SELECT, 0);
    mmio_write32(common + DRIVER_FEATURE, (u32)wanted);
    mmio_write32(common + DRIVER_FEATURE_SELECT, 1);
    mmio_write32(common + DRIVER_FEATURE, (u32)(wanted >> 32));
    mmio_write8(common + DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    if (!(mmio_read8(common + DEVICE_STATUS) & S_FEATURES_OK)) fail("features refused");
    return wanted;
}

u64 virtio_setup_queue(struct virtio_pci *v, u16 index, u16 size, u64 desc, u64 driver, u64 device) {
    u64 common = v->common;
    mmio_write16(common + QUEUE_SELECT, index);
    if (mmio_read16(common + QUEUE_SIZE) < size) {
        puts("queue ");
        putdec(index);
        fail(" too small");
    }
    mmio_write16(common + QUEUE_SIZE, size);
    mmio_write16(common + QUEUE_MSIX_VECTOR, 0xffff); /* no interrupts: the programs poll */
    mmio_write32(common + QUEUE_DESC, (u32)desc);
    mmio_write32(common + QUEUE_DESC + 4, (u32)(desc >> 32));
    mmio_write32(common + QUEUE_DRIVER, (u32)driver);
    mmio_write32(common + QUEUE_DRIVER + 4, (u32)(driver >> 32));
    mmio_write32(common + QUEUE_DEVICE, (u32)device);
    mmio_write32(common + QUEUE_DEVICE + 4, (u32)(device >> 32));
    u16 notify_off = mmio_read16(common + QUEUE_NOTIFY_OFF);
    mmio_write16(common + QUEUE_ENABLE, 1);
    return v->notify + (u64)notify_off * v->notify_multiplier;
}

void virtio_driver_ok(struct virtio_pci *v) {
    mmio_write8(v->common + DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

#define FNV_PRIME 0x01000193u
/* Eight bytes per load: kernel-mode guest code is emulated instruction by instruction on PVM hosts. */
u32 fnv1a(const void *buf, u64 n) {
    u32 h = 0x811c9dc5u;
    const u64 *p = buf;
    u64 i = 0;
    for (; i + 8 <= n; i += 8) {
        u64 w = *p++;
        for (int k = 0; k < 8; k++, w >>= 8) h = (h ^ (u8)w) * FNV_PRIME;
    }
    for (const u8 *b = (const u8 *)buf; i < n; i++) h = (h ^ b[i]) * FNV_PRIME;
    return h;
}

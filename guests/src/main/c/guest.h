/*
 * Freestanding helpers for jhyve's C guest programs: started by jhyve in 64-bit long mode at 1 MiB
 * (see ../asm/program64.ld), CPL 0, interrupts off, the first 4 GiB identity-mapped, RSP = 0x8ff0.
 * No libc: port I/O, COM1 output, PCI configuration mechanism #1, ACPI power-off. Every instruction
 * here may be emulated by KVM (on hosts without VMX/SVM), so keep loops short.
 */
#ifndef JHYVE_GUEST_H
#define JHYVE_GUEST_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

#define COM1 0x3f8
#define PM1A_CNT 0x404
#define S5_POWER_OFF ((5 << 10) | (1 << 13))

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
/* Keeps the compiler from moving memory accesses across it; x86 keeps stores in order by itself. */
static inline void barrier(void) { __asm__ volatile("" : : : "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" : : : "memory"); }

static inline u8 mmio_read8(u64 a) { return *(volatile u8 *)a; }
static inline u16 mmio_read16(u64 a) { return *(volatile u16 *)a; }
static inline u32 mmio_read32(u64 a) { return *(volatile u32 *)a; }
static inline void mmio_write8(u64 a, u8 v) { *(volatile u8 *)a = v; }
static inline void mmio_write16(u64 a, u16 v) { *(volatile u16 *)a = v; }
static inline void mmio_write32(u64 a, u32 v) { *(volatile u32 *)a = v; }

void uart_init(void);
void putc(char c);
void puts(const char *s);
void puthex(u64 v, int digits);
void putdec(u64 v);
__attribute__((noreturn)) void power_off(void);

u32 pci_read32(int bus, int dev, int fn, int off);
void pci_write32(int bus, int dev, int fn, int off, u32 v);
u8 pci_read8(int bus, int dev, int fn, int off);
u16 pci_read16(int bus, int dev, int fn, int off);
void pci_write16(int bus, int dev, int fn, int off, u16 v);

void *memset(void *d, int c, u64 n);
void *memcpy(void *d, const void *s, u64 n);
/* FNV-1a (32-bit) of n bytes, the checksum the tests compute on the host too. */
u32 fnv1a(const void *buf, u64 n);

/* Prints why (and CR LF) on COM1 and powers off. */
__attribute__((noreturn)) void fail(const char *why);

/* The first device on bus 0 (function 0) with this vendor and device ID: its slot, or -1. */
int pci_find_device(u16 vendor, u16 device);

/*
 * virtio 1.x over PCI, the modern transport (virtio 1.2, 4.1): the structures a device's vendor
 * capabilities point at in its BARs. The driver enables memory space and bus mastering itself.
 */
#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_F_VERSION_1 32

struct virtio_pci {
    u64 common, notify, device_cfg; /* MMIO addresses of the common, notify and device configuration */
    u32 notify_multiplier;
};

/* Walks device dev's capability list to its common/notify/device configuration, or fails. */
void virtio_map(struct virtio_pci *v, int dev);
/*
 * Resets the device, acknowledges it, and accepts the features of wanted it offers (VERSION_1 must be
 * among them) up to FEATURES_OK; returns the accepted features, or fails.
 */
u64 virtio_negotiate(struct virtio_pci *v, u64 wanted);
/*
 * Sets queue index up with size entries at the given descriptor table, driver (available) and device
 * (used) rings, no MSI-X vector, and enables it; returns the address to write index to for notifying.
 */
u64 virtio_setup_queue(struct virtio_pci *v, u16 index, u16 size, u64 desc, u64 driver, u64 device);
/* DRIVER_OK: the device may now use the queues. */
void virtio_driver_ok(struct virtio_pci *v);

#endif

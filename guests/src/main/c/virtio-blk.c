/*
 * virtio-blk: drives a virtio-blk device through the virtio 1.x modern PCI transport the way a driver
 * does, with nothing from jhyve but the bus: finds the device by PCI ID, walks its capabilities to the
 * common/notify/device configuration in its BAR, negotiates features, sets up queue 0 in its own memory,
 * and submits requests by writing descriptors and the available ring and notifying; it polls the used
 * ring (no interrupts). Prints on COM1, one line per step:
 *
 *   virtio-blk at 00:SS.0
 *   capacity=<16 hex digits, 512-byte sectors>
 *   ro=<0|1>
 *   read status=<n> sum=<FNV-1a 32 of sectors 0-7>
 *   id=<serial> / id status=<n>
 *   write status=<n>                (sectors 8-15 := byte i = i*7+3)
 *   flush status=<n>
 *   flushed                         (then spins forever when the serial starts with "hold")
 *   readback status=<n> sum=<FNV-1a 32 of sectors 8-15>
 *   done                            (then powers off)
 *
 * Status n is the virtio-blk status byte: 0 OK, 1 IOERR, 2 UNSUPP.
 */
#include "guest.h"

#define VENDOR_VIRTIO 0x1af4
#define DEVICE_VIRTIO_BLK 0x1042
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

#define F_RO 5
#define F_FLUSH 9
#define F_VERSION_1 32

#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define QSIZE 16

struct desc { u64 addr; u32 len; u16 flags; u16 next; };
struct avail { u16 flags; u16 idx; u16 ring[QSIZE]; u16 used_event; };
struct used_elem { u32 id; u32 len; };
struct used { u16 flags; u16 idx; struct used_elem ring[QSIZE]; u16 avail_event; };
struct req_header { u32 type; u32 reserved; u64 sector; };

static struct desc descs[QSIZE] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static struct used used __attribute__((aligned(4)));
static struct req_header header;
static u8 data[4096] __attribute__((aligned(4096)));
static volatile u8 status;
static u16 avail_idx, used_seen;

static u64 common, notify, device_cfg;
static u32 notify_multiplier;
static u16 queue_notify_off;

static void fail(const char *why) {
    puts(why);
    puts("\r\n");
    power_off();
}

/* The MMIO address a virtio capability points at: its BAR's base plus its offset. */
static u64 cap_address(int dev, int cap) {
    int bar = pci_read8(0, dev, 0, cap + 4);
    u32 offset = pci_read32(0, dev, 0, cap + 8);
    u32 low = pci_read32(0, dev, 0, 0x10 + 4 * bar);
    u64 base = low & ~0xfu;
    if ((low & 0x6) == 0x4) base |= (u64)pci_read32(0, dev, 0, 0x10 + 4 * bar + 4) << 32;
    return base + offset;
}

static int find_device(void) {
    for (int dev = 0; dev < 32; dev++) {
        u32 id = pci_read32(0, dev, 0, 0);
        if ((id & 0xffff) == VENDOR_VIRTIO && (id >> 16) == DEVICE_VIRTIO_BLK) return dev;
    }
    return -1;
}

static void map_capabilities(int dev) {
    if (!(pci_read16(0, dev, 0, 0x06) & 0x10)) fail("no capability list");
    for (int cap = pci_read8(0, dev, 0, 0x34) & 0xfc; cap; cap = pci_read8(0, dev, 0, cap + 1) & 0xfc) {
        if (pci_read8(0, dev, 0, cap) != CAP_VENDOR) continue;
        switch (pci_read8(0, dev, 0, cap + 3)) {
        case CFG_COMMON: if (!common) common = cap_address(dev, cap); break;
        case CFG_NOTIFY:
            if (!notify) {
                notify = cap_address(dev, cap);
                notify_multiplier = pci_read32(0, dev, 0, cap + 16);
            }
            break;
        case CFG_DEVICE: if (!device_cfg) device_cfg = cap_address(dev, cap); break;
        }
    }
    if (!common || !notify || !device_cfg) fail("missing virtio capabilities");
}

static u64 device_features(void) {
    mmio_write32(common + DEVICE_FEATURE_SELECT, 0);
    u64 f = mmio_read32(common + DEVICE_FEATURE);
    mmio_write32(common + DEVICE_FEATURE_SELECT, 1);
    return f | (u64)mmio_read32(common + DEVICE_FEATURE) << 32;
}

static u64 negotiate(void) {
    mmio_write8(common + DEVICE_STATUS, 0);
    while (mmio_read8(common + DEVICE_STATUS) != 0) cpu_relax();
    mmio_write8(common + DEVICE_STATUS, S_ACKNOWLEDGE);
    mmio_write8(common + DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER);
    u64 offered = device_features();
    u64 wanted = offered & (1ul << F_VERSION_1 | 1ul << F_FLUSH | 1ul << F_RO);
    if (!(wanted & 1ul << F_VERSION_1)) fail("device does not offer VERSION_1");
    mmio_write32(common + DRIVER_FEATURE_SELECT, 0);
    mmio_write32(common + DRIVER_FEATURE, (u32)wanted);
    mmio_write32(common + DRIVER_FEATURE_SELECT, 1);
    mmio_write32(common + DRIVER_FEATURE, (u32)(wanted >> 32));
    mmio_write8(common + DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    if (!(mmio_read8(common + DEVICE_STATUS) & S_FEATURES_OK)) fail("features refused");
    return wanted;
}

static void setup_queue(void) {
    mmio_write16(common + QUEUE_SELECT, 0);
    u16 size = mmio_read16(common + QUEUE_SIZE);
    if (size < QSIZE) fail("queue 0 too small");
    mmio_write16(common + QUEUE_SIZE, QSIZE);
    mmio_write16(common + QUEUE_MSIX_VECTOR, 0xffff); /* no interrupts: the program polls */
    mmio_write32(common + QUEUE_DESC, (u32)(u64)descs);
    mmio_write32(common + QUEUE_DESC + 4, 0);
    mmio_write32(common + QUEUE_DRIVER, (u32)(u64)&avail);
    mmio_write32(common + QUEUE_DRIVER + 4, 0);
    mmio_write32(common + QUEUE_DEVICE, (u32)(u64)&used);
    mmio_write32(common + QUEUE_DEVICE + 4, 0);
    queue_notify_off = mmio_read16(common + QUEUE_NOTIFY_OFF);
    mmio_write16(common + QUEUE_ENABLE, 1);
    mmio_write8(common + DEVICE_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/*
 * One request: header (device-readable), optional data (readable for writes, writable otherwise), status
 * (device-writable). Returns the status byte, or prints "timeout" and powers off.
 */
static int request(u32 type, u64 sector, u32 len) {
    header.type = type;
    header.reserved = 0;
    header.sector = sector;
    status = 0xff;
    int n = 0;
    descs[n] = (struct desc){(u64)&header, sizeof header, DESC_F_NEXT, 1};
    n++;
    if (len) {
        descs[n] = (struct desc){(u64)data, len, (u16)(DESC_F_NEXT | (type == T_OUT ? 0 : DESC_F_WRITE)), 2};
        n++;
    }
    descs[n] = (struct desc){(u64)&status, 1, DESC_F_WRITE, 0};
    avail.ring[avail_idx % QSIZE] = 0;
    barrier(); /* the ring entry and descriptors before the index that publishes them */
    avail_idx++;
    avail.idx = avail_idx;
    barrier();
    mmio_write16(notify + (u64)queue_notify_off * notify_multiplier, 0);
    for (u32 spins = 0; *(volatile u16 *)&used.idx == used_seen; spins++) {
        if (spins > 20000000) fail("timeout");
        cpu_relax();
    }
    barrier();
    used_seen++;
    return status;
}

static u32 fnv1a(const u8 *p, u32 n) {
    u32 h = 0x811c9dc5u;
    for (u32 i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x01000193u;
    }
    return h;
}

static void print_status(const char *what, int s) {
    puts(what);
    puts(" status=");
    putdec((u64)s);
}

static void print_sum(void) {
    puts(" sum=");
    puthex(fnv1a(data, sizeof data), 8);
    puts("\r\n");
}

static void program(void) {
    uart_init();
    int dev = find_device();
    if (dev < 0) fail("no virtio-blk");
    puts("virtio-blk at 00:");
    puthex((u64)dev, 2);
    puts(".0\r\n");
    pci_write16(0, dev, 0, 0x04, pci_read16(0, dev, 0, 0x04) | 0x6); /* memory space, bus master */
    map_capabilities(dev);
    u64 features = negotiate();
    puts("capacity=");
    puthex(mmio_read32(device_cfg) | (u64)mmio_read32(device_cfg + 4) << 32, 16);
    puts("\r\nro=");
    putdec((features >> F_RO) & 1);
    puts("\r\n");
    setup_queue();

    print_status("read", request(T_IN, 0, sizeof data));
    print_sum();

    memset(data, 0, 20);
    int s = request(T_GET_ID, 0, 20);
    char id[21];
    memcpy(id, data, 20);
    id[20] = 0;
    puts("id=");
    puts(id);
    puts("\r\n");
    print_status("id", s);
    puts("\r\n");

    for (u32 i = 0; i < sizeof data; i++) data[i] = (u8)(i * 7 + 3);
    print_status("write", request(T_OUT, 8, sizeof data));
    puts("\r\n");
    print_status("flush", request(T_FLUSH, 0, 0));
    puts("\r\nflushed\r\n");
    if (id[0] == 'h' && id[1] == 'o' && id[2] == 'l' && id[3] == 'd') {
        for (;;) cpu_relax(); /* a test kills jhyve now and checks the image */
    }

    memset(data, 0, sizeof data);
    print_status("readback", request(T_IN, 8, sizeof data));
    print_sum();
    puts("done\r\n");
    power_off();
}

__attribute__((noreturn)) void _start(void) {
    program();
    power_off();
}

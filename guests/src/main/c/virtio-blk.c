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

#define DEVICE_VIRTIO_BLK 0x1042

#define F_RO 5
#define F_FLUSH 9

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

static struct virtio_pci virtio;
static u64 queue_notify;

static void setup_queue(void) {
    queue_notify = virtio_setup_queue(&virtio, 0, QSIZE, (u64)descs, (u64)&avail, (u64)&used);
    virtio_driver_ok(&virtio);
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
    mmio_write16(queue_notify, 0);
    for (u32 spins = 0; *(volatile u16 *)&used.idx == used_seen; spins++) {
        if (spins > 20000000) fail("timeout");
        cpu_relax();
    }
    barrier();
    used_seen++;
    return status;
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
    int dev = pci_find_device(VIRTIO_VENDOR, DEVICE_VIRTIO_BLK);
    if (dev < 0) fail("no virtio-blk");
    puts("virtio-blk at 00:");
    puthex((u64)dev, 2);
    puts(".0\r\n");
    pci_write16(0, dev, 0, 0x04, pci_read16(0, dev, 0, 0x04) | 0x6); /* memory space, bus master */
    virtio_map(&virtio, dev);
    u64 features = virtio_negotiate(&virtio, 1ul << VIRTIO_F_VERSION_1 | 1ul << F_FLUSH | 1ul << F_RO);
    puts("capacity=");
    puthex(mmio_read32(virtio.device_cfg) | (u64)mmio_read32(virtio.device_cfg + 4) << 32, 16);
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

/*
 * bench-virtio-blk: drives a virtio-blk disk (virtio 1.x modern PCI, 1af4:1042, or the transitional 1af4:1001)
 * from CPL3 by polling, keeping qd requests in flight, and prints one line:
 *
 *   bench virtio-blk op=OP bs=B qd=N ms=T ios=I iops=X MBps=Y p50us=A p99us=B errors=E hash=H verify=ok
 *
 * Arguments (the kernel command line): op=randread|randwrite|read|write (read/write: sequential), bs=BYTES
 * (a multiple of 512), qd=1..128, ms=timed phase, warmup=ms before it, span=bytes of the disk used (default
 * all, at most 1 GiB), verify=bytes checked (default min(span, 64 MiB)), seed=N.
 *
 * The disk holds the pattern scripts/bench/disk-pattern.c writes: 512-byte sector s is the words s,
 * ~s ^ MAGIC, then 62 words the same in every sector. Checks: every request's status byte is 0; every sector a
 * read brings starts with its own two words; before the timed phase the first verify bytes are read in order
 * and compared word for word, and their FNV-1a (hash=, the host's disk-pattern computes the same) printed; a
 * write phase writes the pattern itself, so after it and a FLUSH the same verification must pass again.
 */
#include "bench-disk.h"

#define F_FLUSH 9
#define F_INDIRECT 28
#define F_EVENT_IDX 29
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define DESC_F_INDIRECT 4
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1
#define MAX_QD 128
#define SECTOR DISK_SECTOR

struct desc { u64 addr; u32 len; u16 flags, next; };
struct req_header { u32 type, reserved; u64 sector; };
struct slot {
    struct desc table[3];      /* header, data, status: one indirect table per request */
    struct req_header header;
    u8 *data;
    volatile u8 status;
    u64 started;               /* TSC at submission */
    u64 block;                 /* in bs units */
};


static struct virtio_pci virtio;
static volatile u16 *notify_at;
static u16 qsize, qindex;
static int indirect, event_idx;
static struct desc *descs;
static volatile u16 *avail;       /* flags, idx, ring[qsize], used_event */
static volatile u8 *used;         /* flags, idx, ring[qsize] {id, len}, avail_event */
static u16 avail_idx, used_seen;
static struct slot *slots;

static struct disk_args args;
static u64 span, verify_bytes, capacity_bytes;
static struct latency lat;
static u64 errors, bad_reads;
#define VERIFY_CHUNK (128ul << 10)
static u8 *verify_buffer;

static inline void full_fence(void) { __asm__ volatile("mfence" : : : "memory"); }

static u16 used_idx(void) { return *(volatile u16 *)(used + 2); }

/* Publishes the ring entries added since old_idx and notifies the device unless it said it needs none. */
static void kick(u16 old_idx) {
    barrier();
    avail[1] = avail_idx;
    full_fence(); /* the index is visible before the device's wishes are read */
    int notify;
    if (event_idx) {
        u16 event = *(volatile u16 *)(used + 4 + 8 * qsize);
        notify = (u16)(avail_idx - event - 1) < (u16)(avail_idx - old_idx);
    } else {
        notify = !(*(volatile u16 *)used & USED_F_NO_NOTIFY);
    }
    if (notify) *notify_at = qindex;
}

/* Never ask for an interrupt: with EVENT_IDX the used event is kept half the index space ahead. */
static void no_interrupts(void) {
    if (event_idx) avail[2 + qsize] = (u16)(used_seen + 0x8000);
}

static void prepare(struct slot *s, int type, u64 sector, u64 bytes) {
    s->header.type = (u32)type;
    s->header.sector = sector;
    s->status = 0xff;
    s->table[0] = (struct desc){ (u64)&s->header, sizeof s->header, DESC_F_NEXT, 1 };
    if (type == T_FLUSH) {
        s->table[1] = (struct desc){ (u64)&s->status, 1, DESC_F_WRITE, 0 };
    } else {
        s->table[1] = (struct desc){ (u64)s->data, (u32)bytes, (u16)(DESC_F_NEXT | (type == T_IN ? DESC_F_WRITE : 0)), 2 };
        s->table[2] = (struct desc){ (u64)&s->status, 1, DESC_F_WRITE, 0 };
    }
}

/* Puts slot i's request on the available ring (not yet published). */
static void enqueue(int i) {
    struct slot *s = &slots[i];
    u16 head;
    if (indirect) {
        head = (u16)i;
        int n = s->header.type == T_FLUSH ? 2 : 3;
        descs[head] = (struct desc){ (u64)s->table, (u32)(n * sizeof(struct desc)), DESC_F_INDIRECT, 0 };
    } else {
        head = (u16)(3 * i);
        for (int k = 0; k < 3; k++) {
            descs[head + k] = s->table[k];
            descs[head + k].next = (u16)(head + k + 1);
        }
    }
    avail[2 + avail_idx % qsize] = head;
    avail_idx++;
    s->started = rdtsc();
}

static int slot_of(u32 head) { return indirect ? (int)head : (int)head / 3; }

static void fill_write(struct slot *s) { disk_tag(s->data, s->block * args.bs / SECTOR, args.bs); }

static void check_read(struct slot *s) {
    if (!disk_tags_ok(s->data, s->block * args.bs / SECTOR, args.bs)) bad_reads++;
}

/* Waits for one completion (polling) and returns its slot; counts a bad status. */
static int complete_one(void) {
    while (used_idx() == used_seen) cpu_relax();
    barrier();
    u32 head = *(volatile u32 *)(used + 4 + 8 * (used_seen % qsize));
    used_seen++;
    no_interrupts();
    int i = slot_of(head);
    if (slots[i].status != 0) errors++;
    return i;
}

/* One request on slot 0, waited for: the verification pass and FLUSH. Returns its status. */
static u8 request(int type, u64 sector, u64 bytes) {
    prepare(&slots[0], type, sector, bytes);
    u16 old = avail_idx;
    enqueue(0);
    kick(old);
    complete_one();
    return slots[0].status;
}

/* Reads the first verify_bytes in order: every word must be the pattern's; returns their FNV-1a. */
static u32 verify_pass(void) {
    u32 h = DISK_HASH_START;
    u8 *slot_data = slots[0].data;
    slots[0].data = verify_buffer;
    for (u64 at = 0; at < verify_bytes; at += VERIFY_CHUNK) {
        u64 n = verify_bytes - at < VERIFY_CHUNK ? verify_bytes - at : VERIFY_CHUNK;
        if (request(T_IN, at / SECTOR, n) != 0) bench_fail("a verification read failed");
        h = disk_verify(h, verify_buffer, at / SECTOR, n);
    }
    slots[0].data = slot_data;
    return h;
}

static u64 next_block(u64 *cursor, u64 *rng) { return disk_next_block(&args, span, cursor, rng); }

/*
 * Keeps qd requests in flight for `ticks` TSC ticks, then waits for the last ones; counts and times what
 * completed (when `measure`). Returns the ticks it took from the first submission to the last completion.
 */
static u64 run_phase(u64 ticks, int measure, u64 *ios) {
    int type = disk_writes(&args) ? T_OUT : T_IN;
    u64 cursor = 0, rng = args.seed | 1;
    u16 old = avail_idx;
    u64 begin = rdtsc(), end = begin + ticks;
    for (u64 i = 0; i < args.qd; i++) {
        struct slot *s = &slots[i];
        s->block = next_block(&cursor, &rng);
        prepare(s, type, s->block * args.bs / SECTOR, args.bs);
        if (type == T_OUT) fill_write(s);
        enqueue((int)i);
    }
    kick(old);
    u64 outstanding = args.qd, done = 0;
    int issuing = 1;
    while (outstanding) {
        u16 idx = used_idx();
        if (idx == used_seen) { cpu_relax(); continue; }
        barrier();
        u64 now = rdtsc();
        if (now >= end) issuing = 0;
        old = avail_idx;
        while (used_seen != idx) {
            u32 head = *(volatile u32 *)(used + 4 + 8 * (used_seen % qsize));
            used_seen++;
            struct slot *s = &slots[slot_of(head)];
            if (s->status != 0) errors++;
            else if (type == T_IN) check_read(s);
            if (measure) latency_add(&lat, now - s->started);
            done++;
            if (issuing) {
                s->block = next_block(&cursor, &rng);
                prepare(s, type, s->block * args.bs / SECTOR, args.bs);
                if (type == T_OUT) fill_write(s);
                enqueue(slot_of(head));
            } else {
                outstanding--;
            }
        }
        no_interrupts();
        if (avail_idx != old) kick(old);
    }
    *ios = done;
    return rdtsc() - begin;
}

static int flush(void) { return request(T_FLUSH, 0, 0); }

static void user_main(void) {
    disk_pattern_init();
    for (u64 i = 0; i < args.qd; i++) disk_fill(slots[i].data, args.bs);
    struct disk_device blk = { "virtio-blk", verify_pass, run_phase, flush, &errors, &bad_reads, &lat };
    disk_run(&blk, &args);
}

static void parse_args(void) { disk_parse_args(&args, MAX_QD); }

void bench_main(void) {
    parse_args();
    int dev = pci_find_device(VIRTIO_VENDOR, 0x1042);
    if (dev < 0) dev = pci_find_device(VIRTIO_VENDOR, 0x1001);
    if (dev < 0) bench_fail("no virtio-blk device on PCI bus 0");
    pci_write16(0, dev, 0, 0x04, pci_read16(0, dev, 0, 0x04) | 0x6); /* memory space, bus master */
    virtio_map(&virtio, dev);
    map_user(virtio.common, 4096);
    map_user(virtio.notify, 4096);
    map_user(virtio.device_cfg, 4096);
    u64 f = virtio_negotiate(&virtio, 1ul << VIRTIO_F_VERSION_1 | 1ul << F_FLUSH | 1ul << F_INDIRECT | 1ul << F_EVENT_IDX);
    indirect = (f >> F_INDIRECT) & 1;
    event_idx = (f >> F_EVENT_IDX) & 1;
    capacity_bytes = ((u64)mmio_read32(virtio.device_cfg + 4) << 32 | mmio_read32(virtio.device_cfg)) * SECTOR;

    mmio_write16(virtio.common + 0x16, 0); /* queue_select */
    u16 max = mmio_read16(virtio.common + 0x18);
    qsize = 256;
    while (qsize > max) qsize /= 2;
    if (args.qd > (indirect ? qsize : qsize / 3u)) bench_fail("qd= is more than the queue holds");
    disk_extent(&args, capacity_bytes, &span, &verify_bytes);

    descs = alloc(16ul * qsize, 4096);
    avail = alloc(6ul + 2ul * qsize, 4096);
    used = alloc(6ul + 8ul * qsize, 4096);
    slots = alloc(sizeof(struct slot) * args.qd, 4096);
    for (u64 i = 0; i < args.qd; i++) slots[i].data = alloc(args.bs, 4096);
    verify_buffer = alloc(VERIFY_CHUNK, 4096);
    /* Fresh RAM is zero, but a firmware may have been there before us: the rings must start at zero. */
    for (u64 i = 0; i < 3ul + qsize; i++) avail[i] = 0;
    for (u64 i = 0; i < 6ul + 8ul * qsize; i++) used[i] = 0;
    if (!event_idx) avail[0] = AVAIL_F_NO_INTERRUPT;
    notify_at = (volatile u16 *)virtio_setup_queue(&virtio, 0, qsize, (u64)descs, (u64)avail, (u64)used);
    qindex = 0;
    virtio_driver_ok(&virtio);
    run_user(user_main);
}

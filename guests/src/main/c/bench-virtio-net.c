/*
 * bench-virtio-net: drives a virtio-net device (virtio 1.x modern PCI, 1af4:1041, or the transitional 1af4:1000)
 * from CPL3 by polling, the way a DPDK-style poll-mode driver does, and prints one line:
 *
 *   bench virtio-net dir=tx size=S ms=T frames=N pps=X Gbps=Y kicks=K errors=E sent=A check=ok
 *   bench virtio-net dir=rx size=S ms=T frames=N pps=X Gbps=Y kicks=K errors=E bad=B lost=L reordered=R other=O check=ok
 *
 * Arguments (the kernel command line): dir=tx|rx, size=BYTES (the Ethernet frame without the virtio-net header,
 * 32 to 1514), ms=the timed phase, warmup=ms before it.
 *
 * What it negotiates: VERSION_1, MAC (the source address of its frames) and EVENT_IDX (it notifies only when
 * the device asks, and asks for no interrupts: used_event is kept half the index space ahead). Nothing else: no
 * checksum or segmentation offloads (the header it sends is all zeroes, and a header that arrives is ignored),
 * no MRG_RXBUF (every receive buffer holds a whole frame: 2048 bytes for header + 1514), no INDIRECT (one
 * descriptor per frame, header and frame contiguous), no control queue. Queue 0 receives, queue 1 transmits,
 * each with up to 256 entries (the device's maximum if smaller).
 *
 * dir=tx keeps the whole transmit ring full: a frame whose descriptor comes back on the used ring is stamped
 * with the next sequence number and posted again at once. frames= counts those the device completed inside the
 * timed phase; sent= every frame it completed from the first to the last (warm-up and the drain at the end
 * included: sequence numbers 0 to sent-1). The data checks are the receiver's (scripts/bench/net-peer.c, or a
 * test on the socket backend).
 * dir=rx keeps every receive buffer posted and checks each frame that arrives; before the warm-up it sends one
 * frame (sequence 0) so that a sender can tell it is ready. frames= counts good frames in the timed phase, bad=
 * those whose length field or check is wrong, lost= the sequence numbers skipped between good ones, reordered=
 * good frames whose number is not above the last, other= frames of another EtherType (the host's IPv6
 * neighbour discovery, say). Gbps counts the bytes of the good frames.
 * errors= counts what the device got wrong (a used element naming no posted descriptor, a frame longer than the
 * buffer; on tx, frames still not completed a second after the end). check=ok when errors, bad and reordered
 * are 0.
 *
 * The frames (little-endian fields): destination ff:ff:ff:ff:ff:ff, source the device's MAC, EtherType 0x88b5
 * (IEEE local experimental), then at 14 a u16 length of the whole frame, at 16 a u64 sequence number, at 24 a
 * u64 check, and from 32 fill bytes. check = H(fill) + seq * 0x9e3779b97f4a7c15 + length, where H folds the fill
 * as 64-bit little-endian words (the last one zero-padded): h = 0xcbf29ce484222325, h = (h ^ w) * 0x100000001b3.
 */
#include "bench.h"

#define F_MAC 5
#define F_EVENT_IDX 29
#define RXQ 0
#define TXQ 1
#define QSIZE_MAX 256
#define HDR 12                /* struct virtio_net_hdr_v1 without MRG_RXBUF's use of num_buffers */
#define BUF 2048              /* one buffer: header + an untagged 1514-byte frame, rounded up */
#define FRAME_MIN 32
#define FRAME_MAX 1514
#define FILL_AT 32
#define DESC_F_WRITE 2
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1
#define SEQ_MUL 0x9e3779b97f4a7c15ul
#define DRAIN_MS 1000

struct desc { u64 addr; u32 len; u16 flags, next; };
/* An unaligned 64-bit load that may alias the bytes around it (the fill starts 4 bytes past an 8-byte boundary). */
typedef u64 __attribute__((may_alias, aligned(1))) u64_unaligned;

struct vq {
    u16 size, index;
    struct desc *desc;
    volatile u16 *avail;  /* flags, idx, ring[size], used_event */
    volatile u8 *used;    /* flags, idx, ring[size] {id, len}, avail_event */
    volatile u16 *notify;
    u16 avail_idx, used_seen;
    u8 *buf;              /* size buffers of BUF bytes: descriptor i is always buffer i */
};

static struct virtio_pci virtio;
static struct vq rxq, txq;
static int event_idx, rx_mode;
static u8 mac[6];
static u64 size, duration_ms, warmup_ms;
static u64 fill_hash_of[QSIZE_MAX]; /* tx: H of each buffer's fill, which never changes */
static u64 kicks, errors;
static u64 good, bytes, bad, lost, reordered, other, last_seq;
static int have_last;

static inline void full_fence(void) { __asm__ volatile("mfence" : : : "memory"); }

static u16 used_idx(struct vq *q) { return *(volatile u16 *)(q->used + 2); }

static void used_elem(struct vq *q, u16 at, u32 *id, u32 *len) {
    volatile u32 *e = (volatile u32 *)(q->used + 4 + 8 * (at % q->size));
    *id = e[0];
    *len = e[1];
}

/* Puts descriptor id on the available ring (published by kick). */
static void post(struct vq *q, u16 id) {
    q->avail[2 + q->avail_idx % q->size] = id;
    q->avail_idx++;
}

/* Publishes the entries posted since old and notifies the device only when it asked (EVENT_IDX or the flag). */
static void kick(struct vq *q, u16 old) {
    if (q->avail_idx == old) return;
    barrier();
    q->avail[1] = q->avail_idx;
    full_fence(); /* the index is visible before the device's wishes are read */
    int notify;
    if (event_idx) {
        u16 event = *(volatile u16 *)(q->used + 4 + 8 * q->size);
        notify = (u16)(q->avail_idx - event - 1) < (u16)(q->avail_idx - old);
    } else {
        notify = !(*(volatile u16 *)q->used & USED_F_NO_NOTIFY);
    }
    if (notify) {
        *q->notify = q->index;
        kicks++;
    }
}

/* No interrupts: with EVENT_IDX used_event stays half the index space ahead of what was seen. */
static void no_interrupts(struct vq *q) {
    if (event_idx) q->avail[2 + q->size] = (u16)(q->used_seen + 0x8000);
}

static u64 fill_hash(const u8 *p, u64 n) {
    u64 h = 0xcbf29ce484222325ul, i = 0;
    for (; i + 8 <= n; i += 8) h = (h ^ *(const u64_unaligned *)(p + i)) * 0x100000001b3ul;
    if (i < n) {
        u64 w = 0;
        for (u64 k = 0; i + k < n; k++) w |= (u64)p[i + k] << (8 * k);
        h = (h ^ w) * 0x100000001b3ul;
    }
    return h;
}

static u64 frame_check(u64 length, u64 seq, u64 fh) { return fh + seq * SEQ_MUL + length; }

static u8 *tx_frame(u16 id) { return txq.buf + (u64)id * BUF + HDR; }

/* Writes buffer id's header and the fixed part of its frame, once (at CPL3: the fill is many stores). */
static void tx_prepare(u16 id) {
    u8 *b = txq.buf + (u64)id * BUF, *f = b + HDR;
    for (int i = 0; i < HDR; i++) b[i] = 0; /* no offloads */
    for (int i = 0; i < 6; i++) { f[i] = 0xff; f[6 + i] = mac[i]; }
    f[12] = 0x88;
    f[13] = 0xb5;
    f[14] = (u8)size;
    f[15] = (u8)(size >> 8);
    for (u64 j = FILL_AT; j < size; j++) f[j] = (u8)(id * 31 + j * 7 + 3);
    fill_hash_of[id] = fill_hash(f + FILL_AT, size - FILL_AT);
    txq.desc[id] = (struct desc){ (u64)b, (u32)(HDR + size), 0, 0 };
}

/* Gives buffer id its sequence number and the check that goes with it. */
static void tx_stamp(u16 id, u64 seq) {
    u8 *f = tx_frame(id);
    *(u64_unaligned *)(f + 16) = seq;
    *(u64_unaligned *)(f + 24) = frame_check(size, seq, fill_hash_of[id]);
}

/* The timed phase's boundaries, in TSC ticks, and what the counters read at each. */
struct window { u64 begin, end, t0, t1, at0, at1; int state; /* 0 warm-up, 1 timed, 2 done */ };

static void window_tick(struct window *w, u64 now, u64 count) {
    if (w->state == 0 && now >= w->begin) { w->state = 1; w->t0 = now; w->at0 = count; }
    if (w->state == 1 && now >= w->end) { w->state = 2; w->t1 = now; w->at1 = count; }
}

static void window_start(struct window *w) {
    u64 hz = tsc_hz(), now = rdtsc();
    w->begin = now + warmup_ms * hz / 1000;
    w->end = w->begin + duration_ms * hz / 1000;
    w->state = 0;
}

static void put_result(const struct window *w, u64 frames, u64 frame_bytes) {
    u64 ns = ticks_to_ns(w->t1 - w->t0);
    puts("bench virtio-net");
    put_kv_str("dir", rx_mode ? "rx" : "tx");
    put_kv("size", size);
    put_kv("ms", duration_ms);
    put_kv("frames", frames);
    put_kv("pps", ns ? frames * 1000000000ul / ns : 0);
    put_kv_fixed("Gbps", ns ? frame_bytes * 8000ul / ns : 0, 3);
    put_kv("kicks", kicks);
    put_kv("errors", errors);
}

static void tx_run(void) {
    struct vq *q = &txq;
    for (u16 i = 0; i < q->size; i++) tx_prepare(i);
    struct window w;
    window_start(&w);
    u64 seq = 0, completed = 0, in_flight = 0, drain_end = 0;
    u16 old = q->avail_idx;
    for (u16 i = 0; i < q->size; i++) {
        tx_stamp(i, seq++);
        post(q, i);
        in_flight++;
    }
    kick(q, old);
    while (in_flight) {
        u64 now = rdtsc();
        window_tick(&w, now, completed);
        if (w.state == 2 && !drain_end) drain_end = now + DRAIN_MS * tsc_hz() / 1000;
        u16 idx = used_idx(q);
        if (idx == q->used_seen) {
            if (drain_end && now > drain_end) { errors += in_flight; break; }
            cpu_relax();
            continue;
        }
        barrier(); /* the used elements after the index */
        old = q->avail_idx;
        while (q->used_seen != idx) {
            u32 id, len;
            used_elem(q, q->used_seen, &id, &len);
            q->used_seen++;
            if (id >= q->size) { errors++; in_flight--; continue; }
            completed++;
            if (w.state < 2) {
                tx_stamp((u16)id, seq++);
                post(q, (u16)id);
            } else {
                in_flight--;
            }
        }
        no_interrupts(q);
        kick(q, old);
    }
    put_result(&w, w.at1 - w.at0, (w.at1 - w.at0) * size);
    put_kv("sent", completed);
    put_kv_str("check", errors ? "failed" : "ok");
    puts("\r\n");
}

static void rx_check(const u8 *f, u64 n) {
    if (n < 14 || f[12] != 0x88 || f[13] != 0xb5) { other++; return; }
    if (n < FRAME_MIN || (u64)(f[14] | f[15] << 8) != n) { bad++; return; }
    u64 seq = *(const u64_unaligned *)(f + 16), check = *(const u64_unaligned *)(f + 24);
    if (check != frame_check(n, seq, fill_hash(f + FILL_AT, n - FILL_AT))) { bad++; return; }
    if (have_last && seq <= last_seq) { reordered++; return; }
    if (have_last) lost += seq - last_seq - 1;
    last_seq = seq;
    have_last = 1;
    good++;
    bytes += n;
}

/* One frame of sequence 0 on the transmit queue, waited for: the sender's sign that receive buffers are posted. */
static void rx_announce(void) {
    tx_prepare(0);
    tx_stamp(0, 0);
    u16 old = txq.avail_idx;
    post(&txq, 0);
    kick(&txq, old);
    u64 end = rdtsc() + DRAIN_MS * tsc_hz() / 1000;
    while (used_idx(&txq) == txq.used_seen) {
        if (rdtsc() > end) { errors++; return; }
        cpu_relax();
    }
    txq.used_seen++;
    no_interrupts(&txq);
}

static void rx_run(void) {
    struct vq *q = &rxq;
    rx_announce();
    struct window w;
    window_start(&w);
    u64 good0 = 0, bytes0 = 0, bad0 = 0, lost0 = 0, reordered0 = 0, other0 = 0, errors0 = 0, kicks0 = 0;
    while (w.state < 2) {
        u64 now = rdtsc();
        int was = w.state;
        window_tick(&w, now, good);
        if (was == 0 && w.state >= 1) {
            /* The timed phase starts: what the warm-up saw is not counted (the last sequence number stays). */
            good0 = good; bytes0 = bytes; bad0 = bad; lost0 = lost; reordered0 = reordered; other0 = other;
            errors0 = errors; kicks0 = kicks;
        }
        if (w.state == 2) break;
        u16 idx = used_idx(q);
        if (idx == q->used_seen) { cpu_relax(); continue; }
        barrier();
        u16 old = q->avail_idx;
        while (q->used_seen != idx) {
            u32 id, len;
            used_elem(q, q->used_seen, &id, &len);
            q->used_seen++;
            if (id >= q->size) { errors++; continue; }
            if (len < HDR || len > BUF) errors++;
            else rx_check(q->buf + (u64)id * BUF + HDR, len - HDR);
            post(q, (u16)id);
        }
        no_interrupts(q);
        kick(q, old);
    }
    good -= good0; bytes -= bytes0; bad -= bad0; lost -= lost0; reordered -= reordered0; other -= other0;
    errors -= errors0; kicks -= kicks0;
    put_result(&w, good, bytes);
    put_kv("bad", bad);
    put_kv("lost", lost);
    put_kv("reordered", reordered);
    put_kv("other", other);
    put_kv_str("check", errors || bad || reordered ? "failed" : "ok");
    puts("\r\n");
}

static void user_main(void) {
    if (rx_mode) rx_run();
    else tx_run();
    bench_exit();
}

static void parse_args(void) {
    char buf[8];
    const char *d = arg_str("dir", "tx", buf, sizeof buf);
    if (str_eq(d, "rx")) rx_mode = 1;
    else if (!str_eq(d, "tx")) bench_fail("dir= must be tx or rx");
    size = arg_u64("size", 64);
    duration_ms = arg_u64("ms", 5000);
    warmup_ms = arg_u64("warmup", 1000);
    if (size < FRAME_MIN || size > FRAME_MAX) bench_fail("size= must be 32 to 1514 (the frame without the virtio-net header)");
}

/* Queue index of the given size (at most the device's), its rings and buffers; zeroed here. */
static void setup_queue(struct vq *q, u16 index) {
    mmio_write16(virtio.common + 0x16, index); /* queue_select */
    u16 max = mmio_read16(virtio.common + 0x18);
    u16 n = QSIZE_MAX;
    while (n > max) n /= 2;
    if (n < 2) bench_fail("the device's queues are too small");
    q->size = n;
    q->index = index;
    q->desc = alloc(16ul * n, 4096);
    q->avail = alloc(6ul + 2ul * n, 4096);
    q->used = alloc(6ul + 8ul * n, 4096);
    q->buf = alloc((u64)BUF * n, 4096);
    /* Fresh RAM is zero, but a firmware may have been there before us: the rings must start at zero. Eight
     * bytes a store, since every instruction here may be emulated. */
    for (u64 i = 0; i < (6ul + 2ul * n + 7) / 8; i++) ((volatile u64 *)q->avail)[i] = 0;
    for (u64 i = 0; i < (6ul + 8ul * n + 7) / 8; i++) ((volatile u64 *)q->used)[i] = 0;
    if (!event_idx) q->avail[0] = AVAIL_F_NO_INTERRUPT;
    q->notify = (volatile u16 *)virtio_setup_queue(&virtio, index, n, (u64)q->desc, (u64)q->avail, (u64)q->used);
}

void bench_main(void) {
    parse_args();
    int dev = pci_find_device(VIRTIO_VENDOR, 0x1041);
    if (dev < 0) dev = pci_find_device(VIRTIO_VENDOR, 0x1000);
    if (dev < 0) bench_fail("no virtio-net device on PCI bus 0");
    pci_write16(0, dev, 0, 0x04, pci_read16(0, dev, 0, 0x04) | 0x6); /* memory space, bus master */
    virtio_map(&virtio, dev);
    map_user(virtio.common, 4096);
    map_user(virtio.notify, 4096);
    map_user(virtio.device_cfg, 4096);
    u64 f = virtio_negotiate(&virtio, 1ul << VIRTIO_F_VERSION_1 | 1ul << F_MAC | 1ul << F_EVENT_IDX);
    event_idx = (f >> F_EVENT_IDX) & 1;
    if (f >> F_MAC & 1) for (int i = 0; i < 6; i++) mac[i] = mmio_read8(virtio.device_cfg + (u64)i);
    else mac[0] = 0x02; /* a locally administered address of zeroes */
    setup_queue(&rxq, RXQ);
    setup_queue(&txq, TXQ);
    /* Every receive buffer posted before DRIVER_OK (a few descriptors here: the loop is emulated at CPL0). */
    for (u16 i = 0; i < rxq.size; i++) {
        rxq.desc[i] = (struct desc){ (u64)(rxq.buf + (u64)i * BUF), BUF, DESC_F_WRITE, 0 };
        post(&rxq, i);
    }
    rxq.avail[1] = rxq.avail_idx;
    no_interrupts(&rxq);
    no_interrupts(&txq);
    virtio_driver_ok(&virtio);
    *rxq.notify = RXQ;
    run_user(user_main);
}

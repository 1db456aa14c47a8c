/*
 * virtio-net: drives a virtio-net device through the virtio 1.x modern PCI transport with nothing from
 * jhyve but the bus, and speaks just enough Ethernet, ARP, IPv4 and ICMP to ping and be pinged. Queue 0
 * receives (16 posted buffers of header + one 1514-byte frame: MRG_RXBUF is not negotiated), queue 1
 * transmits (one frame at a time); both are polled, no interrupts. The station is 10.0.0.N, N the last
 * byte of the MAC in the device's configuration space. Every frame received is checked (lengths, types,
 * IP header and ICMP checksums) and ignored when wrong; ARP requests and ICMP echo requests for its own
 * address are answered. Timeouts count TSC cycles, calibrated against PIT channel 2.
 *
 * The pinger (N == 1) then pings 10.0.0.2; it prints on COM1:
 *
 *   virtio-net at 00:SS.0
 *   mac=xx:xx:xx:xx:xx:01
 *   ip=10.0.0.1
 *   arp: 10.0.0.2 is at xx:xx:xx:xx:xx:xx
 *   ping: seq Q lost              (no reply after 20 tries 200 ms apart), or
 *   ping: seq Q came back changed (a reply whose payload differs)
 *   ping: S sent, R received      (100 echo requests, one at a time, 56-byte payload checked)
 *   retransmitted=T time=<ms for the 100 pings> ms
 *   done                          (the peer answered the done signal: echo request id 0xd0e0)
 *   rx=<frames> ignored=<frames>  (then powers off)
 *
 * Any other N answers until the done signal (and 300 ms longer), then prints "answered P pings" (the echo
 * requests other than the done signal), its rx line and powers off. After two minutes without a frame it
 * gives up ("answered P pings, then no done signal").
 */
#include "guest.h"

#define DEVICE_VIRTIO_NET 0x1041
#define F_MAC 5

#define RXQ 0
#define TXQ 1
#define QSIZE 16
#define HDR 12 /* struct virtio_net_hdr_v1 */
#define FRAME_MAX 1514
#define BUF (HDR + FRAME_MAX)

#define ETH_ARP 0x0806
#define ETH_IP 0x0800
#define PING_ID 0x4a48 /* "JH" */
#define DONE_ID 0xd0e0
#define PINGS 100
#define PAYLOAD 56

#define DESC_F_WRITE 2
#define AVAIL_F_NO_INTERRUPT 1

struct desc { u64 addr; u32 len; u16 flags; u16 next; };
struct avail { u16 flags; u16 idx; u16 ring[QSIZE]; u16 used_event; };
struct used_elem { u32 id; u32 len; };
struct used { u16 flags; u16 idx; struct used_elem ring[QSIZE]; u16 avail_event; };

struct queue {
    struct desc desc[QSIZE] __attribute__((aligned(16)));
    struct avail avail __attribute__((aligned(16)));
    struct used used __attribute__((aligned(16)));
    u16 avail_idx, used_seen;
    u16 index;
    u64 notify;
};

static struct queue rxq, txq;
static u8 rxbuf[QSIZE][BUF] __attribute__((aligned(16)));
static u8 txbuf[BUF] __attribute__((aligned(16)));
static struct virtio_pci virtio;

static u8 mac[6], ip[4], peer_ip[4], peer_mac[6];
static const u8 broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static int pinger, peer_known, done_signal;
static u16 ip_id;
static u64 tsc_per_ms;
static u64 rx_frames, rx_ignored, answered;

/* The echo reply the pinger waits for: 1 when it came back intact, 2 when its payload was wrong. */
static u16 wait_id, wait_seq;
static int reply;

static inline u64 rdtsc(void) {
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64)hi << 32 | lo;
}

/* TSC cycles in 10 ms as PIT channel 2 counts them down (11932 ticks of 1.193182 MHz, gated by port 0x61); 0 if it never ends. */
static u64 pit_10ms(void) {
    u8 old = inb(0x61);
    outb(0x61, (u8)((old & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(0x43, 0xb0);                       /* channel 2, lobyte/hibyte, mode 0: output rises at zero */
    outb(0x42, 11932 & 0xff);
    outb(0x42, 11932 >> 8);
    u64 start = rdtsc();
    u32 spins = 0;
    while (!(inb(0x61) & 0x20) && ++spins < 2000000) cpu_relax();
    u64 cycles = rdtsc() - start;
    outb(0x61, old);
    return spins < 2000000 ? cycles : 0;
}

/*
 * TSC cycles per millisecond. The least of three measurements: one where this vCPU was descheduled
 * saw the PIT late and counts too many cycles.
 */
static void calibrate(void) {
    u64 best = 0;
    for (int i = 0; i < 3; i++) {
        u64 c = pit_10ms();
        if (c && (!best || c < best)) best = c;
    }
    tsc_per_ms = best / 10;
    if (tsc_per_ms < 100000 || tsc_per_ms > 20000000) {
        puts("tsc: not calibrated, assuming 2 GHz\r\n");
        tsc_per_ms = 2000000;
    }
}

static u64 deadline(u64 ms) { return rdtsc() + ms * tsc_per_ms; }

static u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }

static void put16(u8 *p, u16 v) {
    p[0] = (u8)(v >> 8);
    p[1] = (u8)v;
}

static int same(const u8 *a, const u8 *b, u32 n) {
    for (u32 i = 0; i < n; i++) {
        if (a[i] != b[i]) return 0;
    }
    return 1;
}

/* The Internet checksum (RFC 1071) of n bytes: 0 over data that carries a correct one. */
static u16 checksum(const u8 *p, u32 n) {
    u32 sum = 0;
    for (; n > 1; p += 2, n -= 2) sum += (u32)(p[0] << 8 | p[1]);
    if (n) sum += (u32)p[0] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (u16)~sum;
}

static void print_mac(const u8 *m) {
    for (int i = 0; i < 6; i++) {
        if (i) putc(':');
        puthex(m[i], 2);
    }
}

static void print_ip(const u8 *a) {
    for (int i = 0; i < 4; i++) {
        if (i) putc('.');
        putdec(a[i]);
    }
}

/* ---- queues ---- */

static void setup_queue(struct queue *q, u16 index) {
    q->index = index;
    q->avail.flags = AVAIL_F_NO_INTERRUPT; /* the program polls */
    q->notify = virtio_setup_queue(&virtio, index, QSIZE, (u64)q->desc, (u64)&q->avail, (u64)&q->used);
}

/* Makes descriptor head available to the device (the caller notifies). */
static void post(struct queue *q, u16 head) {
    q->avail.ring[q->avail_idx % QSIZE] = head;
    barrier(); /* the descriptor and ring entry before the index that publishes them */
    q->avail_idx++;
    *(volatile u16 *)&q->avail.idx = q->avail_idx;
    barrier();
}

static void notify(struct queue *q) { mmio_write16(q->notify, q->index); }

/* Sends the len-byte frame at txbuf + HDR, and waits until the device has taken it. */
static void transmit(u32 len) {
    memset(txbuf, 0, HDR); /* no checksum or segmentation offload */
    txq.desc[0] = (struct desc){(u64)txbuf, HDR + len, 0, 0};
    post(&txq, 0);
    notify(&txq);
    u64 end = deadline(2000);
    while (*(volatile u16 *)&txq.used.idx == txq.used_seen) {
        if (rdtsc() > end) fail("tx timeout");
        cpu_relax();
    }
    barrier();
    txq.used_seen++;
}

/* ---- frames ---- */

static u8 *eth_header(const u8 *dst, u16 type) {
    u8 *f = txbuf + HDR;
    memcpy(f, dst, 6);
    memcpy(f + 6, mac, 6);
    put16(f + 12, type);
    return f + 14;
}

static void send_arp(u16 op, const u8 *eth_dst, const u8 *tha, const u8 *tpa) {
    u8 *a = eth_header(eth_dst, ETH_ARP);
    put16(a, 1);          /* Ethernet */
    put16(a + 2, ETH_IP); /* IPv4 */
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    memcpy(a + 8, mac, 6);
    memcpy(a + 14, ip, 4);
    memcpy(a + 18, tha, 6);
    memcpy(a + 24, tpa, 4);
    transmit(14 + 28);
}

/* An IPv4 header (no options) for an ICMP message of icmp_len bytes, which follows at the returned address. */
static u8 *ip_header(const u8 *eth_dst, const u8 *dst, u32 icmp_len) {
    u8 *h = eth_header(eth_dst, ETH_IP);
    h[0] = 0x45;
    h[1] = 0;
    put16(h + 2, (u16)(20 + icmp_len));
    put16(h + 4, ip_id++);
    put16(h + 6, 0);
    h[8] = 64; /* TTL */
    h[9] = 1;  /* ICMP */
    put16(h + 10, 0);
    memcpy(h + 12, ip, 4);
    memcpy(h + 16, dst, 4);
    put16(h + 10, checksum(h, 20));
    return h + 20;
}

static u8 pattern(u16 seq, u32 i) { return (u8)(seq * 13 + i * 7 + 1); }

static void send_echo_request(u16 id, u16 seq) {
    u8 *icmp = ip_header(peer_mac, peer_ip, 8 + PAYLOAD);
    icmp[0] = 8;
    icmp[1] = 0;
    put16(icmp + 2, 0);
    put16(icmp + 4, id);
    put16(icmp + 6, seq);
    for (u32 i = 0; i < PAYLOAD; i++) icmp[8 + i] = pattern(seq, i);
    put16(icmp + 2, checksum(icmp, 8 + PAYLOAD));
    transmit(14 + 20 + 8 + PAYLOAD);
}

static void on_arp(const u8 *f, u32 n) {
    const u8 *a = f + 14;
    if (n < 14 + 28 || get16(a) != 1 || get16(a + 2) != ETH_IP || a[4] != 6 || a[5] != 4) {
        rx_ignored++;
        return;
    }
    u16 op = get16(a + 6);
    const u8 *sha = a + 8, *spa = a + 14, *tpa = a + 24;
    if (!same(tpa, ip, 4)) return; /* for someone else */
    if (op == 1) {
        u8 who_mac[6], who_ip[4];
        memcpy(who_mac, sha, 6);
        memcpy(who_ip, spa, 4);
        send_arp(2, who_mac, who_mac, who_ip);
    } else if (op == 2 && same(f, mac, 6) && same(spa, peer_ip, 4) && !peer_known) {
        memcpy(peer_mac, sha, 6);
        peer_known = 1;
    } else if (op != 2) {
        rx_ignored++;
    }
}

static void on_icmp(const u8 *f, const u8 *h, const u8 *icmp, u32 len) {
    if (len < 8 || checksum(icmp, len)) {
        rx_ignored++;
        return;
    }
    u16 id = get16(icmp + 4), seq = get16(icmp + 6);
    if (icmp[0] == 8 && icmp[1] == 0) {
        /* Echo request: the reply carries id, sequence and data back, to the frame's sender. */
        u8 eth_src[6], src[4];
        memcpy(eth_src, f + 6, 6);
        memcpy(src, h + 12, 4);
        u8 *r = ip_header(eth_src, src, len);
        memcpy(r, icmp, len);
        r[0] = 0;
        put16(r + 2, 0);
        put16(r + 2, checksum(r, len));
        transmit(14 + 20 + len);
        if (id == DONE_ID) done_signal = 1;
        else answered++;
    } else if (icmp[0] == 0 && icmp[1] == 0) {
        if (!pinger || reply || id != wait_id || seq != wait_seq || !same(h + 12, peer_ip, 4)) return; /* late or stray */
        int ok = len == 8 + PAYLOAD;
        for (u32 i = 0; ok && i < PAYLOAD; i++) ok = icmp[8 + i] == pattern(seq, i);
        reply = ok ? 1 : 2;
    }
}

static void on_ip(const u8 *f, u32 n) {
    const u8 *h = f + 14;
    if (n < 14 + 20) {
        rx_ignored++;
        return;
    }
    u32 ihl = (u32)(h[0] & 0xf) * 4, total = get16(h + 2);
    if (h[0] >> 4 != 4 || ihl < 20 || 14 + ihl > n || total < ihl || 14 + total > n || checksum(h, ihl)) {
        rx_ignored++;
        return;
    }
    if (get16(h + 6) & 0x3fff) return; /* a fragment: not reassembled */
    if (h[9] != 1 || !same(h + 16, ip, 4)) return;
    on_icmp(f, h, h + ihl, total - ihl);
}

static void on_frame(const u8 *f, u32 n) {
    rx_frames++;
    if (!same(f, mac, 6) && !same(f, broadcast, 6)) return; /* not for this station */
    switch (get16(f + 12)) {
    case ETH_ARP: on_arp(f, n); break;
    case ETH_IP: on_ip(f, n); break;
    default: rx_ignored++;
    }
}

/* Handles every frame the device has delivered and gives the buffers back; returns how many. */
static int poll(void) {
    int handled = 0;
    while (*(volatile u16 *)&rxq.used.idx != rxq.used_seen) {
        barrier(); /* the used element and the buffer after the index */
        struct used_elem e = rxq.used.ring[rxq.used_seen % QSIZE];
        rxq.used_seen++;
        if (e.id >= QSIZE) fail("rx: device returned a bad descriptor id");
        if (e.len < HDR + 14 || e.len > BUF) rx_ignored++;
        else on_frame(rxbuf[e.id] + HDR, e.len - HDR);
        post(&rxq, (u16)e.id);
        handled++;
    }
    if (handled) notify(&rxq);
    return handled;
}

/* Polls until *flag or ms milliseconds have passed; returns *flag. */
static int wait_for(volatile int *flag, u64 ms) {
    u64 end = deadline(ms);
    while (!*flag && rdtsc() < end) {
        if (!poll()) cpu_relax();
    }
    return *flag;
}

/* ---- the program ---- */

static void ping(void) {
    for (int tries = 0; !peer_known; tries++) {
        if (tries == 600) fail("arp: no reply from 10.0.0.2");
        static const u8 unknown[6];
        send_arp(1, broadcast, unknown, peer_ip);
        wait_for(&peer_known, 100);
    }
    puts("arp: ");
    print_ip(peer_ip);
    puts(" is at ");
    print_mac(peer_mac);
    puts("\r\n");

    u32 sent = 0, received = 0, retransmitted = 0;
    u64 start = rdtsc();
    for (u16 seq = 1; seq <= PINGS; seq++) {
        wait_id = PING_ID;
        wait_seq = seq;
        reply = 0;
        for (int tries = 0; !reply && tries < 20; tries++) {
            if (tries) retransmitted++;
            send_echo_request(PING_ID, seq);
            wait_for(&reply, 200);
        }
        sent++;
        if (reply == 1) {
            received++;
        } else {
            puts("ping: seq ");
            putdec(seq);
            puts(reply ? " came back changed\r\n" : " lost\r\n");
        }
    }
    puts("ping: ");
    putdec(sent);
    puts(" sent, ");
    putdec(received);
    puts(" received\r\nretransmitted=");
    putdec(retransmitted);
    puts(" time=");
    putdec((rdtsc() - start) / tsc_per_ms);
    puts(" ms\r\n");

    wait_id = DONE_ID;
    wait_seq = 1;
    reply = 0;
    for (int tries = 0; !reply && tries < 10; tries++) {
        send_echo_request(DONE_ID, 1);
        wait_for(&reply, 200);
    }
    puts(reply ? "done\r\n" : "done: no answer\r\n");
}

static void respond(void) {
    /* Gives up after two minutes without a frame, so that a lost pinger does not leave it spinning. */
    u64 end = deadline(120000);
    while (!done_signal) {
        if (poll()) end = deadline(120000);
        else if (rdtsc() > end) break;
        else cpu_relax();
    }
    /* Lingers a little, so the reply to the done signal leaves jhyve before it powers off (and a repeat is answered). */
    for (end = deadline(300); rdtsc() < end;) {
        if (!poll()) cpu_relax();
    }
    puts("answered ");
    putdec(answered);
    puts(done_signal ? " pings\r\n" : " pings, then no done signal\r\n");
}

static void program(void) {
    uart_init();
    calibrate();
    int dev = pci_find_device(VIRTIO_VENDOR, DEVICE_VIRTIO_NET);
    if (dev < 0) fail("no virtio-net");
    puts("virtio-net at 00:");
    puthex((u64)dev, 2);
    puts(".0\r\n");
    pci_write16(0, dev, 0, 0x04, pci_read16(0, dev, 0, 0x04) | 0x6); /* memory space, bus master */
    virtio_map(&virtio, dev);
    u64 features = virtio_negotiate(&virtio, 1ul << VIRTIO_F_VERSION_1 | 1ul << F_MAC);
    if (!(features & 1ul << F_MAC)) fail("device has no MAC");
    for (int i = 0; i < 6; i++) mac[i] = mmio_read8(virtio.device_cfg + (u64)i);
    puts("mac=");
    print_mac(mac);
    ip[0] = 10;
    ip[1] = 0;
    ip[2] = 0;
    ip[3] = mac[5];
    memcpy(peer_ip, ip, 3);
    peer_ip[3] = 2;
    pinger = mac[5] == 1;
    puts("\r\nip=");
    print_ip(ip);
    puts("\r\n");

    setup_queue(&rxq, RXQ);
    setup_queue(&txq, TXQ);
    for (u16 i = 0; i < QSIZE; i++) {
        rxq.desc[i] = (struct desc){(u64)rxbuf[i], BUF, DESC_F_WRITE, 0};
        post(&rxq, i);
    }
    virtio_driver_ok(&virtio);
    notify(&rxq);

    if (pinger) ping();
    else respond();
    puts("rx=");
    putdec(rx_frames);
    puts(" ignored=");
    putdec(rx_ignored);
    puts("\r\n");
    power_off();
}

__attribute__((noreturn)) void _start(void) {
    program();
    power_off();
}

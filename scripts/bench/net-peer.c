/*
 * net-peer: the host's end of jhyve's virtio-net benchmark (guests/src/main/c/bench-virtio-net.c), on a tap
 * interface whose file descriptor the VMM holds. The VMM reads and writes the tap's fd, so the host's side is the
 * kernel's end of the tap: an AF_PACKET socket bound to the interface. Frames are the guest's format (EtherType
 * 0x88b5, length, sequence number, check over the fill; see the guest's header comment), checked one by one.
 *
 *   net-peer rx IFACE SECONDS            counts and checks the guest's frames: from the first one until SECONDS
 *                                        have passed or none came for a second
 *   net-peer tx IFACE SIZE SECONDS [PPS] waits (up to 120 s) for the guest's ready frame, then sends SIZE-byte
 *                                        frames into the guest for SECONDS, as fast as it can or at PPS frames/s
 *   net-peer limit-tx TAP SIZE SECONDS   the host's limit for the guest-to-host path: opens tap TAP itself and
 *                                        writes frames to its fd (a 12-byte virtio-net header and the frame, one
 *                                        writev each, as a VMM does) for SECONDS while a packet socket on TAP
 *                                        receives and checks them: nobody but the kernel in between
 *   net-peer limit-rx TAP SIZE SECONDS   the host's limit for the host-to-guest path: a packet socket sends into
 *                                        TAP as in tx while this process reads the tap's fd (one read a frame)
 *
 * Each side prints one line of key=value words: "net-peer rx frames= ... bad= gaps= reordered= drops=" (gaps:
 * sequence numbers missing between good frames; drops: frames the kernel dropped at the packet socket,
 * PACKET_STATISTICS) and "net-peer tx frames= ... refused= tap_tx= tap_dropped=" (frames= the tap took; refused=
 * frames it refused because its queue of tx_queue_len frames was full, each skipped rather than sent again, so the
 * offered load does not depend on the reader and the receiver sees them as gaps; tap_tx/tap_dropped: the
 * interface's own counters over the run). Needs CAP_NET_RAW (and CAP_NET_ADMIN to create a tap): run it as root,
 * in the network namespace of the interface. Build: gcc -O2 -pthread -o net-peer net-peer.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE 0x88b5
#define FRAME_MIN 32
#define FRAME_MAX 1514
#define FILL_AT 32
#define VNET_HDR 12
#define SEQ_MUL 0x9e3779b97f4a7c15ull
#define BATCH 64

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "net-peer: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---- the frame format (the guest's) ---- */

static uint64_t fill_hash(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
    }
    if (i < n) {
        w = 0;
        memcpy(&w, p + i, n - i); /* little-endian host: the guest's zero-padded last word */
        h = (h ^ w) * 0x100000001b3ull;
    }
    return h;
}

static uint64_t frame_check(uint64_t length, uint64_t seq, uint64_t fh) { return fh + seq * SEQ_MUL + length; }

/* A frame of size bytes to ff:ff:ff:ff:ff:ff; its fill differs per slot; returns H(fill). */
static uint64_t frame_prepare(uint8_t *f, unsigned size, unsigned slot) {
    memset(f, 0xff, 6);
    static const uint8_t src[6] = {0x02, 0x6a, 0x68, 0x6f, 0x73, 0x74}; /* "jhost", locally administered */
    memcpy(f + 6, src, 6);
    f[12] = ETHERTYPE >> 8;
    f[13] = ETHERTYPE & 0xff;
    f[14] = (uint8_t)size;
    f[15] = (uint8_t)(size >> 8);
    for (unsigned j = FILL_AT; j < size; j++) f[j] = (uint8_t)(slot * 131 + j * 11 + 5);
    return fill_hash(f + FILL_AT, size - FILL_AT);
}

static void frame_stamp(uint8_t *f, unsigned size, uint64_t seq, uint64_t fh) {
    uint64_t check = frame_check(size, seq, fh);
    memcpy(f + 16, &seq, 8);
    memcpy(f + 24, &check, 8);
}

/* What a receiver saw. */
struct tally {
    uint64_t frames, bytes, bad, gaps, reordered, last_seq, first_seq;
    int have_last;
    double t_first, t_last;
};

static void tally_frame(struct tally *t, const uint8_t *f, size_t n) {
    double now = now_s();
    if (!t->frames && !t->bad) t->t_first = now;
    t->t_last = now;
    uint64_t seq, check;
    if (n < FRAME_MIN || (size_t)(f[14] | f[15] << 8) != n) { t->bad++; return; }
    memcpy(&seq, f + 16, 8);
    memcpy(&check, f + 24, 8);
    if (check != frame_check(n, seq, fill_hash(f + FILL_AT, n - FILL_AT))) { t->bad++; return; }
    if (t->have_last && seq <= t->last_seq) { t->reordered++; return; }
    if (t->have_last) t->gaps += seq - t->last_seq - 1;
    else t->first_seq = seq;
    t->last_seq = seq;
    t->have_last = 1;
    t->frames++;
    t->bytes += n;
}

static void tally_print(const char *who, const struct tally *t, uint64_t drops) {
    double s = t->t_last - t->t_first;
    printf("%s frames=%llu bytes=%llu seconds=%.3f pps=%.0f Gbps=%.3f bad=%llu gaps=%llu reordered=%llu drops=%llu first=%llu last=%llu\n",
           who, (unsigned long long)t->frames, (unsigned long long)t->bytes, s, s > 0 ? t->frames / s : 0,
           s > 0 ? t->bytes * 8 / s / 1e9 : 0, (unsigned long long)t->bad, (unsigned long long)t->gaps,
           (unsigned long long)t->reordered, (unsigned long long)drops, (unsigned long long)t->first_seq,
           (unsigned long long)t->last_seq);
    fflush(stdout);
}

/* ---- packet sockets ---- */

/* A packet socket on iface: receiving EtherType proto (0: nothing, for sending only). */
static int packet_socket(const char *iface, int proto) {
    int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));
    if (fd < 0) die("socket(AF_PACKET)");
    struct ifreq r = {0};
    snprintf(r.ifr_name, IFNAMSIZ, "%s", iface);
    if (ioctl(fd, SIOCGIFINDEX, &r)) die(iface);
    struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(proto), .sll_ifindex = r.ifr_ifindex };
    if (bind(fd, (struct sockaddr *)&a, sizeof a)) die("bind(AF_PACKET)");
    return fd;
}

static uint64_t socket_drops(int fd) {
    struct tpacket_stats st;
    socklen_t len = sizeof st;
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) return 0;
    return st.tp_drops;
}

/* Receives frames on fd until `seconds` after the first, a second without one after the first, or a signal. */
static void receive_frames(int fd, double seconds, struct tally *t, uint64_t *drops) {
    int big = 64 << 20;
    /* A large buffer, so that the receiver's own hiccups do not show as the guest's losses (root may exceed rmem_max). */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big)) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    static uint8_t bufs[BATCH][2048];
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_ll from[BATCH];
    socket_drops(fd); /* reading the statistics resets them */
    *drops = 0;
    double start = now_s();
    while (!stop) {
        double now = now_s();
        if (t->frames || t->bad) {
            if (now - t->t_first > seconds || now - t->t_last > 1.0) break;
        } else if (now - start > seconds + 120) {
            break; /* nothing ever came */
        }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 100) <= 0) continue;
        for (int i = 0; i < BATCH; i++) {
            iov[i] = (struct iovec){ bufs[i], sizeof bufs[i] };
            m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iov[i], .msg_iovlen = 1 };
        }
        int n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, 0);
        for (int i = 0; i < n; i++) {
            if (from[i].sll_pkttype == PACKET_OUTGOING) continue; /* our own, sent on the same interface */
            tally_frame(t, bufs[i], m[i].msg_len);
        }
    }
    *drops = socket_drops(fd);
}

/* ---- sending through a packet socket ---- */

struct sender {
    const char *iface;
    unsigned size;
    double seconds, pps;
    uint64_t frames, dropped;
    double elapsed;
};

static uint64_t iface_counter(const char *iface, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "/sys/class/net/%s/statistics/%s", iface, name);
    FILE *f = fopen(path, "r");
    unsigned long long v = 0;
    if (f) {
        if (fscanf(f, "%llu", &v) != 1) v = 0;
        fclose(f);
    }
    return v;
}

/* Sends for s->seconds: sendmmsg in batches of BATCH, past the qdisc (the cheapest way into the tap's queue). */
static void *send_frames(void *arg) {
    struct sender *s = arg;
    int fd = packet_socket(s->iface, 0);
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    static uint8_t frames[BATCH][FRAME_MAX];
    uint64_t fh[BATCH], seq = 1; /* 0 is the guest's ready frame */
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        fh[i] = frame_prepare(frames[i], s->size, (unsigned)i);
        iov[i] = (struct iovec){ frames[i], s->size };
        m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
    }
    int batch = s->pps > 0 && s->pps < 100000 ? 8 : BATCH; /* paced: smaller bursts */
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    double start = now_s();
    while (!stop && now_s() - start < s->seconds) {
        for (int i = 0; i < batch; i++) frame_stamp(frames[i], s->size, seq + (uint64_t)i, fh[i]);
        /* sendmmsg stops at the first frame the tap refuses (ENOBUFS: its queue is full, or no carrier yet): that
         * frame is counted as dropped and skipped, not sent again, so the offered load does not depend on the
         * reader and the receiver sees the drop as a gap. */
        for (int at = 0; at < batch;) {
            int n = sendmmsg(fd, m + at, (unsigned)(batch - at), 0);
            if (n > 0) {
                s->frames += (uint64_t)n;
                at += n;
            } else {
                if (errno != ENOBUFS && errno != EAGAIN && errno != ENETDOWN) die("sendmmsg");
                s->dropped++;
                at++;
            }
        }
        seq += (uint64_t)batch;
        if (s->pps > 0) {
            long step = (long)(1e9 * batch / s->pps);
            next.tv_nsec += step;
            while (next.tv_nsec >= 1000000000L) { next.tv_nsec -= 1000000000L; next.tv_sec++; }
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, 0);
        }
    }
    s->elapsed = now_s() - start;
    close(fd);
    return 0;
}

static void sender_print(const struct sender *s, uint64_t tap_tx, uint64_t tap_dropped) {
    printf("net-peer tx frames=%llu seconds=%.3f pps=%.0f Gbps=%.3f refused=%llu tap_tx=%llu tap_dropped=%llu\n",
           (unsigned long long)s->frames, s->elapsed, s->elapsed > 0 ? s->frames / s->elapsed : 0,
           s->elapsed > 0 ? s->frames * (double)s->size * 8 / s->elapsed / 1e9 : 0, (unsigned long long)s->dropped,
           (unsigned long long)tap_tx, (unsigned long long)tap_dropped);
    fflush(stdout);
}

/* Waits for the guest's ready frame (sequence 0 in its format) on iface; 0 when it came. */
static int await_ready(const char *iface, double timeout) {
    int fd = packet_socket(iface, ETHERTYPE);
    double start = now_s();
    uint8_t f[2048];
    int ready = -1;
    while (!stop && ready && now_s() - start < timeout) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 100) <= 0) continue;
        struct sockaddr_ll from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, f, sizeof f, MSG_DONTWAIT, (struct sockaddr *)&from, &len);
        if (n >= FRAME_MIN && from.sll_pkttype != PACKET_OUTGOING) ready = 0;
    }
    close(fd);
    return ready;
}

/* ---- a tap of our own ---- */

static int tap_open(const char *name, int flags) {
    int fd = open("/dev/net/tun", O_RDWR | flags);
    if (fd < 0) die("/dev/net/tun");
    struct ifreq r = {0};
    snprintf(r.ifr_name, IFNAMSIZ, "%s", name);
    r.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR; /* as jhyve opens it (TapBackend) */
    if (ioctl(fd, TUNSETIFF, &r)) die("TUNSETIFF");
    int hdr = VNET_HDR;
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr)) die("TUNSETVNETHDRSZ");
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &r)) die("SIOCGIFFLAGS");
    r.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &r)) die("SIOCSIFFLAGS");
    close(s);
    return fd;
}

struct writer { int fd; unsigned size; double seconds; uint64_t frames, errors; double elapsed; };

/* Writes header + frame to the tap's fd, one writev each (what a VMM without vhost does per guest frame). */
static void *write_tap(void *arg) {
    struct writer *w = arg;
    static uint8_t header[VNET_HDR], frames[BATCH][FRAME_MAX];
    uint64_t fh[BATCH], seq = 0;
    for (int i = 0; i < BATCH; i++) fh[i] = frame_prepare(frames[i], w->size, (unsigned)i);
    double start = now_s();
    while (!stop && now_s() - start < w->seconds) {
        for (int i = 0; i < BATCH; i++, seq++) {
            frame_stamp(frames[i], w->size, seq, fh[i]);
            struct iovec v[2] = { { header, VNET_HDR }, { frames[i], w->size } };
            if (writev(w->fd, v, 2) < 0) w->errors++;
            else w->frames++;
        }
    }
    w->elapsed = now_s() - start;
    return 0;
}

static unsigned parse_size(const char *s) {
    unsigned size = (unsigned)atoi(s);
    if (size < FRAME_MIN || size > FRAME_MAX) {
        fprintf(stderr, "net-peer: SIZE must be %d to %d\n", FRAME_MIN, FRAME_MAX);
        exit(2);
    }
    return size;
}

static int usage(void) {
    fprintf(stderr, "usage: net-peer rx IFACE SECONDS | tx IFACE SIZE SECONDS [PPS] | limit-tx TAP SIZE SECONDS | limit-rx TAP SIZE SECONDS\n");
    return 2;
}

int main(int argc, char **argv) {
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (argc < 4) return usage();
    const char *mode = argv[1], *iface = argv[2];
    struct tally t = {0};
    uint64_t drops;
    if (!strcmp(mode, "rx")) {
        int fd = packet_socket(iface, ETHERTYPE);
        receive_frames(fd, atof(argv[3]), &t, &drops);
        tally_print("net-peer rx", &t, drops);
        return 0;
    }
    if (argc < 5) return usage();
    unsigned size = parse_size(argv[3]);
    double seconds = atof(argv[4]);
    if (!strcmp(mode, "tx")) {
        struct sender s = { .iface = iface, .size = size, .seconds = seconds, .pps = argc > 5 ? atof(argv[5]) : 0 };
        if (await_ready(iface, 120)) {
            fprintf(stderr, "net-peer: no ready frame from the guest on %s\n", iface);
            return 1;
        }
        uint64_t tx0 = iface_counter(iface, "tx_packets"), drop0 = iface_counter(iface, "tx_dropped");
        send_frames(&s);
        sender_print(&s, iface_counter(iface, "tx_packets") - tx0, iface_counter(iface, "tx_dropped") - drop0);
        return 0;
    }
    if (!strcmp(mode, "limit-tx")) {
        int tap = tap_open(iface, 0);
        int fd = packet_socket(iface, ETHERTYPE);
        struct writer w = { .fd = tap, .size = size, .seconds = seconds };
        pthread_t th;
        pthread_create(&th, 0, write_tap, &w);
        receive_frames(fd, seconds, &t, &drops);
        pthread_join(th, 0);
        printf("net-peer limit-tx writer frames=%llu seconds=%.3f pps=%.0f Gbps=%.3f errors=%llu\n", (unsigned long long)w.frames,
               w.elapsed, w.frames / w.elapsed, w.frames * (double)size * 8 / w.elapsed / 1e9, (unsigned long long)w.errors);
        tally_print("net-peer limit-tx reader", &t, drops);
        return 0;
    }
    if (!strcmp(mode, "limit-rx")) {
        int tap = tap_open(iface, O_NONBLOCK);
        struct sender s = { .iface = iface, .size = size, .seconds = seconds };
        uint64_t tx0 = iface_counter(iface, "tx_packets"), drop0 = iface_counter(iface, "tx_dropped");
        pthread_t th;
        pthread_create(&th, 0, send_frames, &s);
        /* Read the tap's fd: one read a frame, poll only when it is empty (the cheapest a user-space reader gets). */
        uint8_t buf[VNET_HDR + 2048];
        double start = now_s();
        while (!stop && now_s() - start < seconds + 0.5) {
            ssize_t n = read(tap, buf, sizeof buf);
            if (n < 0) {
                if (errno != EAGAIN) die("read(tap)");
                struct pollfd p = { .fd = tap, .events = POLLIN };
                poll(&p, 1, 100);
                continue;
            }
            if (n >= VNET_HDR + 14 && buf[VNET_HDR + 12] == ETHERTYPE >> 8 && buf[VNET_HDR + 13] == (ETHERTYPE & 0xff))
                tally_frame(&t, buf + VNET_HDR, (size_t)n - VNET_HDR);
        }
        pthread_join(th, 0);
        sender_print(&s, iface_counter(iface, "tx_packets") - tx0, iface_counter(iface, "tx_dropped") - drop0);
        tally_print("net-peer limit-rx reader", &t, 0);
        return 0;
    }
    return usage();
}

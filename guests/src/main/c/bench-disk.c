/* The disk benchmarks' shared part: see bench-disk.h. */
#include "bench-disk.h"

static const char *const op_names[] = { "randread", "randwrite", "read", "write" };
static u64 shared[DISK_SECTOR / 8];

void disk_parse_args(struct disk_args *a, u64 max_qd) {
    char buf[16];
    const char *o = arg_str("op", "randread", buf, sizeof buf);
    int found = 0;
    for (int i = 0; i < 4; i++) if (str_eq(o, op_names[i])) { a->op = (enum disk_op)i; found = 1; }
    if (!found) bench_fail("op= must be randread, randwrite, read or write");
    a->bs = arg_u64("bs", 4096);
    a->qd = arg_u64("qd", 1);
    a->duration_ms = arg_u64("ms", 5000);
    a->warmup_ms = arg_u64("warmup", 1000);
    a->seed = arg_u64("seed", 1);
    if (a->bs == 0 || a->bs % DISK_SECTOR || a->bs > (4u << 20)) bench_fail("bs= must be a multiple of 512 up to 4 MiB");
    if (a->qd < 1 || a->qd > max_qd) {
        puts("bench error: qd= must be 1 to ");
        putdec(max_qd);
        puts("\r\n");
        bench_exit();
    }
}

void disk_extent(const struct disk_args *a, u64 capacity, u64 *span, u64 *verify) {
    u64 s = arg_u64("span", capacity < (1ul << 30) ? capacity : 1ul << 30);
    s -= s % a->bs;
    if (s < a->bs * a->qd || s > capacity) bench_fail("span= must fit the disk and hold qd blocks");
    u64 v = arg_u64("verify", s < (64ul << 20) ? s : 64ul << 20);
    v -= v % DISK_SECTOR;
    if (v > s) bench_fail("verify= is larger than span=");
    *span = s;
    *verify = v;
}

void disk_pattern_init(void) {
    u64 x = 0x9e3779b97f4a7c15ul;
    for (int j = 2; j < DISK_SECTOR / 8; j++) shared[j] = xorshift64(&x);
}

void disk_fill(u8 *buf, u64 bytes) {
    for (u64 k = 0; k < bytes / DISK_SECTOR; k++) memcpy(buf + k * DISK_SECTOR, shared, DISK_SECTOR);
}

void disk_tag(u8 *buf, u64 first_sector, u64 bytes) {
    for (u64 k = 0; k < bytes / DISK_SECTOR; k++) {
        u64 *w = (u64 *)(buf + k * DISK_SECTOR), s = first_sector + k;
        w[0] = s;
        w[1] = ~s ^ DISK_MAGIC;
    }
}

int disk_tags_ok(const u8 *buf, u64 first_sector, u64 bytes) {
    for (u64 k = 0; k < bytes / DISK_SECTOR; k++) {
        const u64 *w = (const u64 *)(buf + k * DISK_SECTOR);
        u64 s = first_sector + k;
        if (w[0] != s || w[1] != (~s ^ DISK_MAGIC)) return 0;
    }
    return 1;
}

u32 disk_verify(u32 hash, const u8 *buf, u64 first_sector, u64 bytes) {
    for (u64 k = 0; k < bytes / DISK_SECTOR; k++) {
        const u64 *w = (const u64 *)(buf + k * DISK_SECTOR);
        u64 s = first_sector + k;
        int good = w[0] == s && w[1] == (~s ^ DISK_MAGIC);
        for (int j = 2; j < DISK_SECTOR / 8 && good; j++) good = w[j] == shared[j];
        if (!good) {
            puts("bench error: sector ");
            putdec(s);
            puts(" does not hold the pattern (is the image made by scripts/bench/disk-pattern.c?)\r\n");
            bench_exit();
        }
    }
    for (u64 i = 0; i < bytes; i++) hash = (hash ^ buf[i]) * 0x01000193u;
    return hash;
}

u64 disk_next_block(const struct disk_args *a, u64 span, u64 *cursor, u64 *rng) {
    u64 blocks = span / a->bs;
    if (a->op == RANDREAD || a->op == RANDWRITE) return xorshift64(rng) % blocks;
    u64 b = *cursor;
    *cursor = (b + 1) % blocks;
    return b;
}

void disk_report(const char *device, const struct disk_args *a, const struct disk_result *r) {
    u64 ns = ticks_to_ns(r->ticks);
    puts("bench ");
    puts(device);
    put_kv_str("op", op_names[a->op]);
    put_kv("bs", a->bs);
    put_kv("qd", a->qd);
    put_kv("ms", a->duration_ms);
    put_kv("ios", r->ios);
    put_kv("iops", ns ? r->ios * 1000000000ul / ns : 0);
    put_kv("MBps", ns ? r->ios * a->bs * 1000ul / ns : 0);
    put_kv_fixed("p50us", latency_ns(r->lat, 500) / 100, 1);
    put_kv_fixed("p99us", latency_ns(r->lat, 990) / 100, 1);
    put_kv("errors", r->errors);
    put_kv("badreads", r->bad_reads);
    put_kv_hex("hash", r->hash);
    put_kv_str("verify", r->errors || r->bad_reads ? "failed" : r->verified);
    puts("\r\n");
}

void disk_run(const struct disk_device *d, const struct disk_args *a) {
    u32 hash = d->verify_pass();
    u64 ios;
    if (a->warmup_ms) d->run_phase(a->warmup_ms * tsc_hz() / 1000, 0, &ios);
    *d->errors = *d->bad_reads = 0;
    u64 ticks = d->run_phase(a->duration_ms * tsc_hz() / 1000, 1, &ios);
    struct disk_result r = { ios, ticks, *d->errors, *d->bad_reads, hash, "ok", d->lat };
    if (disk_writes(a)) {
        if (d->flush() != 0) r.verified = "flush-failed";
        else if (d->verify_pass() != hash) r.verified = "hash-changed";
    }
    disk_report(d->name, a, &r);
    bench_exit();
}

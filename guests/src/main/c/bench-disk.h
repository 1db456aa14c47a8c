/*
 * What jhyve's disk benchmark guests share (bench-virtio-blk.c, bench-ahci.c): their arguments, the data pattern
 * scripts/bench/disk-pattern.c writes, the checks of what they read, and their one result line. Everything here
 * may run at CPL3.
 *
 * The pattern: 512-byte sector s holds the words s and ~s ^ DISK_MAGIC, then 62 words shared by every sector.
 */
#ifndef JHYVE_BENCH_DISK_H
#define JHYVE_BENCH_DISK_H

#include "bench.h"

#define DISK_SECTOR 512
#define DISK_MAGIC 0x6a68797665626c6bul /* "jhyveblk" */
#define DISK_HASH_START 0x811c9dc5u

enum disk_op { RANDREAD, RANDWRITE, READ, WRITE };

/* op= bs= qd= ms= warmup= seed= from the command line. */
struct disk_args { enum disk_op op; u64 bs, qd, duration_ms, warmup_ms, seed; };

/* Reads the arguments; a bad one ends the VM with a line naming it. qd may be 1 to max_qd. */
void disk_parse_args(struct disk_args *a, u64 max_qd);
static inline int disk_writes(const struct disk_args *a) { return a->op == RANDWRITE || a->op == WRITE; }

/*
 * The disk's part used (span=, default all of it up to 1 GiB, whole blocks of bs) and the bytes the verification
 * passes read (verify=, default min(span, 64 MiB), whole sectors); a bad value ends the VM with a line naming it.
 */
void disk_extent(const struct disk_args *a, u64 capacity, u64 *span, u64 *verify);

/* Computes the words every sector shares; call once before the others. */
void disk_pattern_init(void);
/* Fills every sector of buf with the shared words (the two of its own are the caller's, disk_tag). */
void disk_fill(u8 *buf, u64 bytes);
/* Writes each sector's own two words into buf, which holds `bytes` starting at first_sector. */
void disk_tag(u8 *buf, u64 first_sector, u64 bytes);
/* Whether every sector of buf starts with its own two words (the cheap check of every read). */
int disk_tags_ok(const u8 *buf, u64 first_sector, u64 bytes);
/* Checks every word of buf against the pattern (ends the VM, naming the sector, if one is wrong) and returns
 * hash updated with buf's FNV-1a. */
u32 disk_verify(u32 hash, const u8 *buf, u64 first_sector, u64 bytes);
/* The next block (in bs units) of span bytes: random (xorshift) or sequential (cursor), as the op says. */
u64 disk_next_block(const struct disk_args *a, u64 span, u64 *cursor, u64 *rng);

struct disk_result {
    u64 ios, ticks, errors, bad_reads;
    u32 hash;
    const char *verified; /* "ok", or what failed after a write phase */
    const struct latency *lat;
};
/* Prints "bench DEVICE op=... verify=..." and CR LF. */
void disk_report(const char *device, const struct disk_args *a, const struct disk_result *r);

/* What a disk benchmark does with its device, for disk_run. */
struct disk_device {
    const char *name;
    u32 (*verify_pass)(void);                           /* reads the verified bytes in order: their FNV-1a */
    u64 (*run_phase)(u64 ticks, int measure, u64 *ios); /* qd requests in flight for ticks: the ticks it took */
    int (*flush)(void);                                 /* a FLUSH: 0 when it succeeded */
    u64 *errors, *bad_reads;                            /* what run_phase counts */
    const struct latency *lat;                          /* what run_phase times when measuring */
};

/*
 * The run of every disk benchmark, once the pattern is in its write buffers: the verification pass, the warm-up,
 * the timed phase, after writes a FLUSH and the pass again (its hash must not change), the result line; then the
 * VM ends.
 */
__attribute__((noreturn)) void disk_run(const struct disk_device *d, const struct disk_args *a);

#endif

/*
 * bench-ahci: drives the first SATA disk behind an AHCI HBA from CPL3 by polling, keeping qd commands in
 * flight, and prints one line:
 *
 *   bench ahci op=OP bs=B qd=N ms=T ios=I iops=X MBps=Y p50us=A p99us=B errors=E badreads=R hash=H verify=ok
 *
 * Arguments (the kernel command line) as bench-virtio-blk's: op=randread|randwrite|read|write, bs=BYTES (a
 * multiple of 512, at most 4 MiB), qd=1..32, ms=, warmup=, span=, verify=, seed=; and ncq=1|0. With ncq=1 (the
 * default) every timed command is READ/WRITE FPDMA QUEUED, even at qd=1, so that depths compare like with like:
 * one tag per command slot, issued through PxSACT then PxCI, done when its PxSACT bit clears. ncq=0 (qd=1 only)
 * uses READ/WRITE DMA EXT, done when PxCI clears.
 *
 * The HBA is the first one on PCI bus 0 (class 01 06 01) with a port whose link is up and whose signature is a
 * disk (00000101): QEMU's q35 has an ICH9 AHCI at 00:1f.2 that may be empty while another holds the disk.
 * Interrupts stay off (GHC.IE and PxIE 0). Only the PCI scan and map_user run at CPL0 (emulated on hosts
 * without VMX/SVM); the port's bring-up, IDENTIFY, the verification passes and the timed loop run at CPL3.
 *
 * Data checks, as bench-virtio-blk's (the pattern of scripts/bench/disk-pattern.c): every sector a read
 * brings must start with its own two words; before the timed phase the first verify bytes are read in order
 * (READ DMA EXT, 128 KiB at a time), compared word for word, and their FNV-1a printed as hash=; after a write
 * phase (which writes the pattern itself) a FLUSH CACHE EXT and the same pass must give the same hash.
 * errors= counts the times the port reported an error (PxIS.TFES/HBFS/HBDS/IFS/INFS/OFS, or ERR in PxTFD);
 * each is followed by the port's recovery, and the commands in flight are issued again.
 */
#include "bench-disk.h"

#define CLASS_SATA_AHCI 0x010601
#define MAX_HBAS 8
#define ABAR_BYTES 0x2000

/* Generic host control (AHCI 1.3, 3.1). */
#define HBA_CAP 0x00
#define HBA_GHC 0x04
#define HBA_IS 0x08
#define HBA_PI 0x0c
#define GHC_AE (1u << 31)
#define CAP_SNCQ (1u << 30)

/* Port registers (AHCI 1.3, 3.3). */
#define PX_CLB 0x00
#define PX_CLBU 0x04
#define PX_FB 0x08
#define PX_FBU 0x0c
#define PX_IS 0x10
#define PX_IE 0x14
#define PX_CMD 0x18
#define PX_TFD 0x20
#define PX_SIG 0x24
#define PX_SSTS 0x28
#define PX_SERR 0x30
#define PX_SACT 0x34
#define PX_CI 0x38
#define CMD_ST (1u << 0)
#define CMD_CLO (1u << 3)
#define CMD_FRE (1u << 4)
#define CMD_FR (1u << 14)
#define CMD_CR (1u << 15)
#define IS_ERRORS (1u << 30 | 1u << 29 | 1u << 28 | 1u << 27 | 1u << 26 | 1u << 24) /* TFES HBFS HBDS IFS INFS OFS */
#define TFD_ERR 0x01
#define TFD_DRQ 0x08
#define TFD_BSY 0x80
#define SIG_DISK 0x00000101u

/* ATA8-ACS. */
#define ATA_READ_DMA_EXT 0x25
#define ATA_READ_LOG_EXT 0x2f
#define ATA_WRITE_DMA_EXT 0x35
#define ATA_READ_FPDMA_QUEUED 0x60
#define ATA_WRITE_FPDMA_QUEUED 0x61
#define ATA_FLUSH_CACHE_EXT 0xea
#define ATA_IDENTIFY 0xec
#define DEVICE_LBA 0x40
#define LOG_NCQ_ERROR 0x10

#define MAX_QD 32
#define SECTOR DISK_SECTOR
#define VERIFY_CHUNK (128ul << 10)
#define STALL_SECONDS 5 /* no progress for this long: the device is stuck */
#define ERROR_CHECK_POLLS 16 /* PxIS is read every this many polls: a failed command never clears its bit */

/* AHCI 1.3, 4.2. A command table has room for 8 PRD entries (256 bytes, so that an array keeps the 128-byte alignment); one is used. */
struct cmd_header { u32 dw0, prdbc, ctba, ctbau, reserved[4]; };
struct prd { u32 dba, dbau, reserved, dbc; };
struct cmd_table { u8 cfis[64]; u8 acmd[16]; u8 reserved[48]; struct prd prdt[8]; };

struct slot { u8 *data; u64 block; u64 started; };


static u64 hba_abar[MAX_HBAS];
static int hba_slot[MAX_HBAS], hba_count;
static u64 abar, px;
static int port_no;
static struct cmd_header *cmd_list;
static u8 *rfis;
static struct cmd_table *tables;
static struct slot slots[MAX_QD];
static u8 *verify_buffer, *small_buffer;

static struct disk_args args;
static int ncq;
static u64 span, verify_bytes, capacity_bytes, stall_ticks;
static struct latency lat;
static u64 errors, bad_reads;

/* ---- registers ---- */

static u32 preg(int off) { return mmio_read32(px + off); }
static void preg_write(int off, u32 v) { mmio_write32(px + off, v); }

static void wait_clear(int off, u32 bits, const char *what) {
    u64 start = rdtsc();
    while (preg(off) & bits) {
        if (rdtsc() - start > stall_ticks) bench_fail(what);
        cpu_relax();
    }
}

/* AHCI 1.3, 10.1.2: ST off, wait for CR; FRE off, wait for FR (a firmware may have left the port running). */
static void port_stop(void) {
    preg_write(PX_CMD, preg(PX_CMD) & ~CMD_ST);
    wait_clear(PX_CMD, CMD_CR, "the port does not stop: CR stays set");
    preg_write(PX_CMD, preg(PX_CMD) & ~CMD_FRE);
    wait_clear(PX_CMD, CMD_FR, "the port does not stop: FR stays set");
}

/* ST on, once the device is not busy (a command list override clears BSY and DRQ if it is). */
static void port_start(void) {
    if (preg(PX_TFD) & (TFD_BSY | TFD_DRQ)) {
        preg_write(PX_CMD, preg(PX_CMD) | CMD_CLO);
        wait_clear(PX_CMD, CMD_CLO, "CLO stays set");
        wait_clear(PX_TFD, TFD_BSY | TFD_DRQ, "the device stays busy");
    }
    preg_write(PX_CMD, preg(PX_CMD) | CMD_ST);
}

static void put_port_state(const char *what) {
    puts("ahci ");
    puts(what);
    put_kv_hex("is", preg(PX_IS));
    put_kv_hex("tfd", preg(PX_TFD));
    put_kv_hex("sact", preg(PX_SACT));
    put_kv_hex("ci", preg(PX_CI));
    puts("\r\n");
}

/* ---- commands ---- */

/* Slot's header, FIS and single PRD entry: bytes of data at buf (none when 0); count in sectors. */
static void prepare(int slot, u8 opcode, u64 lba, u32 count, const void *buf, u32 bytes, int write) {
    u8 *f = tables[slot].cfis;
    int queued = opcode == ATA_READ_FPDMA_QUEUED || opcode == ATA_WRITE_FPDMA_QUEUED;
    f[0] = 0x27; /* register H2D */
    f[1] = 0x80; /* C: a command */
    f[2] = opcode;
    f[3] = queued ? (u8)count : 0; /* a queued command's count is in the features */
    f[4] = (u8)lba;
    f[5] = (u8)(lba >> 8);
    f[6] = (u8)(lba >> 16);
    f[7] = DEVICE_LBA;
    f[8] = (u8)(lba >> 24);
    f[9] = (u8)(lba >> 32);
    f[10] = (u8)(lba >> 40);
    f[11] = queued ? (u8)(count >> 8) : 0;
    f[12] = queued ? (u8)(slot << 3) : (u8)count; /* the tag is the slot */
    f[13] = queued ? 0 : (u8)(count >> 8);
    struct cmd_header *h = &cmd_list[slot];
    h->dw0 = 5 | (write ? 1u << 6 : 0) | (bytes ? 1u << 16 : 0); /* CFL 5 dwords, W, PRDTL */
    h->prdbc = 0;
    if (bytes) tables[slot].prdt[0] = (struct prd){ (u32)(u64)buf, (u32)((u64)buf >> 32), 0, bytes - 1 };
}

/* Whether the port reported an error (then its state is printed once). */
static int port_failed(void) {
    u32 is = preg(PX_IS);
    if (!(is & IS_ERRORS) && !(preg(PX_TFD) & TFD_ERR)) return 0;
    if (!errors) put_port_state("error");
    return 1;
}

/* One non-queued command in slot 0, waited for: 0, or -1 when the port reported an error. */
static int sync_command(u8 opcode, u64 lba, u32 count, const void *buf, u32 bytes, int write) {
    prepare(0, opcode, lba, count, buf, bytes, write);
    barrier(); /* the command list and table before the register that hands them over */
    preg_write(PX_CI, 1);
    u64 start = rdtsc();
    while (preg(PX_CI) & 1) {
        if (preg(PX_IS) & IS_ERRORS) return -1;
        if (rdtsc() - start > stall_ticks) { put_port_state("stuck"); bench_fail("a command never completed"); }
        cpu_relax();
    }
    barrier(); /* the data the device wrote, read after this */
    /* Some HBAs clear PxCI on a failure too: the error bits say which it was. */
    if (port_failed()) return -1;
    return 0;
}

/*
 * Error recovery (AHCI 1.3, 6.2.2): ST off (which drops the commands in flight), the errors cleared, ST on;
 * then, after a queued command failed, READ LOG EXT of log 10h, which ends the drive's NCQ error state.
 */
static void recover(void) {
    preg_write(PX_CMD, preg(PX_CMD) & ~CMD_ST);
    wait_clear(PX_CMD, CMD_CR, "recovery: CR stays set");
    preg_write(PX_SERR, 0xffffffffu);
    preg_write(PX_IS, 0xffffffffu);
    mmio_write32(abar + HBA_IS, 1u << port_no);
    port_start();
    if (ncq && sync_command(ATA_READ_LOG_EXT, LOG_NCQ_ERROR, 1, small_buffer, SECTOR, 0) != 0) {
        preg_write(PX_CMD, preg(PX_CMD) & ~CMD_ST); /* no log: at least a clean port */
        wait_clear(PX_CMD, CMD_CR, "recovery: CR stays set");
        preg_write(PX_SERR, 0xffffffffu);
        preg_write(PX_IS, 0xffffffffu);
        port_start();
    }
}

/* ---- the pattern ---- */

static void fill_write(struct slot *s) { disk_tag(s->data, s->block * args.bs / SECTOR, args.bs); }

static void check_read(struct slot *s) {
    if (!disk_tags_ok(s->data, s->block * args.bs / SECTOR, args.bs)) bad_reads++;
}

/* Reads the first verify_bytes in order: every word must be the pattern's; returns their FNV-1a. */
static u32 verify_pass(void) {
    u32 h = DISK_HASH_START;
    for (u64 at = 0; at < verify_bytes; at += VERIFY_CHUNK) {
        u64 n = verify_bytes - at < VERIFY_CHUNK ? verify_bytes - at : VERIFY_CHUNK;
        if (sync_command(ATA_READ_DMA_EXT, at / SECTOR, (u32)(n / SECTOR), verify_buffer, (u32)n, 0) != 0)
            bench_fail("a verification read failed");
        h = disk_verify(h, verify_buffer, at / SECTOR, n);
    }
    return h;
}

/* ---- the timed loop ---- */

static u64 next_block(u64 *cursor, u64 *rng) { return disk_next_block(&args, span, cursor, rng); }

/* Prepares a new command in every slot of mask and issues them with one PxSACT and one PxCI write. */
static void submit(u32 mask, u64 *cursor, u64 *rng) {
    int writing = disk_writes(&args);
    u8 opcode = ncq ? (writing ? ATA_WRITE_FPDMA_QUEUED : ATA_READ_FPDMA_QUEUED)
                    : (writing ? ATA_WRITE_DMA_EXT : ATA_READ_DMA_EXT);
    for (u32 m = mask; m; m &= m - 1) {
        int i = __builtin_ctz(m);
        struct slot *s = &slots[i];
        s->block = next_block(cursor, rng);
        if (writing) fill_write(s);
        prepare(i, opcode, s->block * args.bs / SECTOR, (u32)(args.bs / SECTOR), s->data, (u32)args.bs, writing);
    }
    barrier();
    u64 now = rdtsc();
    for (u32 m = mask; m; m &= m - 1) slots[__builtin_ctz(m)].started = now;
    if (ncq) preg_write(PX_SACT, mask);
    preg_write(PX_CI, mask);
}

/*
 * Keeps qd commands in flight for `ticks` TSC ticks, then waits for the last ones; counts and times what
 * completed (when `measure`). Returns the ticks from the first submission to the last completion.
 */
static u64 run_phase(u64 ticks, int measure, u64 *ios) {
    int reading = !disk_writes(&args);
    u64 cursor = 0, rng = args.seed | 1;
    u32 all = args.qd == 32 ? 0xffffffffu : (1u << args.qd) - 1;
    u64 begin = rdtsc(), end = begin + ticks, last_progress = begin, done = 0;
    int issuing = 1;
    submit(all, &cursor, &rng);
    u32 outstanding = all;
    for (u32 polls = 1; outstanding; polls++) {
        if (polls % ERROR_CHECK_POLLS == 0 && port_failed()) {
            errors++;
            recover();
            outstanding = 0;
            if (rdtsc() >= end) issuing = 0;
            if (issuing) { submit(all, &cursor, &rng); outstanding = all; }
            continue;
        }
        u32 finished = outstanding & ~preg(ncq ? PX_SACT : PX_CI);
        if (!finished) {
            if (rdtsc() - last_progress > stall_ticks) { put_port_state("stuck"); bench_fail("commands never completed"); }
            cpu_relax();
            continue;
        }
        barrier(); /* the data the device wrote, read after this */
        u64 now = rdtsc();
        last_progress = now;
        if (now >= end) issuing = 0;
        outstanding &= ~finished;
        for (u32 m = finished; m; m &= m - 1) {
            struct slot *s = &slots[__builtin_ctz(m)];
            if (reading) check_read(s);
            if (measure) latency_add(&lat, now - s->started);
            done++;
        }
        if (issuing) { submit(finished, &cursor, &rng); outstanding |= finished; }
    }
    u64 took = rdtsc() - begin;
    if (port_failed()) { errors++; recover(); }
    *ios = done;
    return took;
}

/* ---- bring-up, at CPL3 ---- */

/* A port with a link, its command list and received-FIS area ours: whether its device is a disk (then started). */
static int port_up(int p) {
    port_no = p;
    px = abar + 0x100 + 0x80ul * (u64)p;
    if ((preg(PX_SSTS) & 0xf) != 3) return 0; /* no device, or no phy communication */
    port_stop();
    for (u64 i = 0; i < 1024 / 8; i++) ((u64 *)cmd_list)[i] = 0;
    for (u64 i = 0; i < 256 / 8; i++) ((u64 *)rfis)[i] = 0;
    for (u64 i = 0; i < MAX_QD * sizeof(struct cmd_table) / 8; i++) ((u64 *)tables)[i] = 0;
    for (int i = 0; i < MAX_QD; i++) {
        cmd_list[i].ctba = (u32)(u64)&tables[i];
        cmd_list[i].ctbau = (u32)((u64)&tables[i] >> 32);
    }
    preg_write(PX_CLB, (u32)(u64)cmd_list);
    preg_write(PX_CLBU, (u32)((u64)cmd_list >> 32));
    preg_write(PX_FB, (u32)(u64)rfis);
    preg_write(PX_FBU, (u32)((u64)rfis >> 32));
    preg_write(PX_IE, 0); /* polled */
    preg_write(PX_CMD, preg(PX_CMD) | CMD_FRE);
    preg_write(PX_SERR, 0xffffffffu);
    preg_write(PX_IS, 0xffffffffu);
    if (preg(PX_SIG) != SIG_DISK) {
        port_stop();
        return 0;
    }
    port_start();
    return 1;
}

/* The first HBA port with a disk; prints which. Returns the HBA's CAP. */
static u32 find_disk(void) {
    for (int h = 0; h < hba_count; h++) {
        abar = hba_abar[h];
        mmio_write32(abar + HBA_GHC, GHC_AE); /* AHCI mode, interrupts off */
        u32 cap = mmio_read32(abar + HBA_CAP), pi = mmio_read32(abar + HBA_PI);
        for (int p = 0; p < 32; p++) {
            if (!(pi & 1u << p) || !port_up(p)) continue;
            puts("ahci at 00:");
            puthex((u64)hba_slot[h] >> 3, 2);
            putc('.');
            puthex((u64)hba_slot[h] & 7, 1);
            puts(" port ");
            putdec((u64)p);
            return cap;
        }
    }
    bench_fail("no AHCI port with a disk (signature 00000101) on PCI bus 0");
}

static u16 id_word(const u8 *id, int w) { return (u16)(id[2 * w] | id[2 * w + 1] << 8); }

/* IDENTIFY DEVICE: capacity, 512-byte logical sectors, NCQ and its depth; ends the "ahci at" line. */
static void identify(u32 cap) {
    const u8 *id = small_buffer;
    if (sync_command(ATA_IDENTIFY, 0, 0, id, SECTOR, 0) != 0) bench_fail("IDENTIFY DEVICE failed");
    if (!(id_word(id, 83) & 1u << 10)) bench_fail("the disk has no 48-bit addressing");
    u16 w106 = id_word(id, 106);
    if ((w106 & 0xc000) == 0x4000 && (w106 & 1u << 12) && (id_word(id, 117) | (u32)id_word(id, 118) << 16) != SECTOR / 2)
        bench_fail("the disk's logical sectors are not 512 bytes");
    u64 sectors = 0;
    for (int w = 103; w >= 100; w--) sectors = sectors << 16 | id_word(id, w);
    capacity_bytes = sectors * SECTOR;
    int has_ncq = (cap & CAP_SNCQ) && (id_word(id, 76) & 1u << 8);
    u64 depth = has_ncq ? (u64)(id_word(id, 75) & 0x1f) + 1 : 0;
    put_kv("sectors", sectors);
    put_kv("ncq-depth", depth);
    put_kv("slots", ((cap >> 8) & 0x1f) + 1);
    puts("\r\n");
    if (ncq && !has_ncq) bench_fail("no NCQ on this HBA or disk (ncq=0 qd=1 uses READ/WRITE DMA EXT)");
    if (ncq && args.qd > depth) bench_fail("qd= is more than the disk's NCQ depth");
    if (args.qd > ((cap >> 8) & 0x1f) + 1) bench_fail("qd= is more than the HBA's command slots");
}

static int flush(void) { return sync_command(ATA_FLUSH_CACHE_EXT, 0, 0, 0, 0, 0); }

static void user_main(void) {
    stall_ticks = STALL_SECONDS * tsc_hz();
    identify(find_disk());
    disk_extent(&args, capacity_bytes, &span, &verify_bytes);

    /* The shared words of the pattern, as disk-pattern.c makes them; write buffers hold them once and for all. */
    disk_pattern_init();
    for (u64 i = 0; i < args.qd; i++) disk_fill(slots[i].data, args.bs);
    struct disk_device ahci = { "ahci", verify_pass, run_phase, flush, &errors, &bad_reads, &lat };
    disk_run(&ahci, &args);
}

/* ---- at CPL0: arguments, the PCI scan, memory ---- */

static void parse_args(void) {
    disk_parse_args(&args, MAX_QD);
    ncq = arg_u64("ncq", 1) != 0;
    if (!ncq && args.qd != 1) bench_fail("ncq=0 needs qd=1");
}

/* Every AHCI HBA on bus 0: memory space and bus mastering on, its ABAR (BAR5) reachable from CPL3. */
static void find_hbas(void) {
    for (int dev = 0; dev < 32; dev++) {
        for (int fn = 0; fn < 8; fn++) {
            u32 id = pci_read32(0, dev, fn, 0);
            if ((id & 0xffff) == 0xffff) {
                if (fn == 0) break;
                continue;
            }
            if (pci_read32(0, dev, fn, 0x08) >> 8 == CLASS_SATA_AHCI && hba_count < MAX_HBAS) {
                u32 bar5 = pci_read32(0, dev, fn, 0x24);
                if (!(bar5 & 1) && (bar5 & ~0xfu)) {
                    pci_write16(0, dev, fn, 0x04, pci_read16(0, dev, fn, 0x04) | 0x6);
                    hba_abar[hba_count] = bar5 & ~0xfu;
                    hba_slot[hba_count++] = dev << 3 | fn;
                    map_user(bar5 & ~0xfu, ABAR_BYTES);
                }
            }
            if (fn == 0 && !(pci_read8(0, dev, 0, 0x0e) & 0x80)) break; /* not multi-function */
        }
    }
    if (!hba_count) bench_fail("no AHCI HBA (class 01 06 01) with a memory BAR5 on PCI bus 0");
}

void bench_main(void) {
    parse_args();
    find_hbas();
    cmd_list = alloc(32 * sizeof(struct cmd_header), 4096);
    rfis = alloc(256, 256);
    tables = alloc(MAX_QD * sizeof(struct cmd_table), 4096);
    for (u64 i = 0; i < args.qd; i++) slots[i].data = alloc(args.bs, 4096);
    verify_buffer = alloc(VERIFY_CHUNK, 4096);
    small_buffer = alloc(SECTOR, 4096);
    run_user(user_main);
}

/*
 * ahci: drives every AHCI host bus adapter on PCI bus 0 through its registers the way a driver does, with
 * nothing from jhyve but the bus and polling instead of interrupts. For each HBA (class 01 06 01): memory
 * space and bus mastering on, ABAR from BAR5, GHC.AE; for each port in PI: the port stopped (ST, FRE, wait
 * for CR, FR), a command list of 32 headers, a received-FIS area and command tables set up in this
 * program's memory, FRE then ST, the link (PxSSTS.DET = 3) and the device's signature (PxSIG) checked. Then,
 * by signature:
 *
 *   disk (00000101): IDENTIFY DEVICE; READ DMA EXT of sectors 2048-4095 (1 MiB); two READ FPDMA QUEUED in
 *     slots 0 and 1 at once; WRITE DMA EXT of sectors 4096-4351 (128 KiB, byte i = i*7+3) from four
 *     scattered buffers (one PRD entry each), FLUSH CACHE EXT; READ DMA EXT of them back.
 *   cd (EB140101): IDENTIFY PACKET DEVICE; PACKET commands INQUIRY, READ CAPACITY(10), READ(10) of the
 *     primary volume descriptor (LBA 16), of the root directory and of the file DATA.BIN in it; a SCSI
 *     opcode no drive knows (FFh), then REQUEST SENSE.
 *   both: a read whose PRD entry points outside guest RAM (0x7fff00000000), which must fail (PxIS.HBFS or
 *     TFES); the port is then recovered (ST cleared, SERR and IS cleared, ST set) and read once more.
 *
 * Output on COM1, one line per result (sums are FNV-1a 32, 8 hex digits):
 *
 *   ahci at 00:SS.F abar=<hex> version=<hex> pi=<hex> slots=<n>
 *   port <n>: sig=<8 hex digits> ssts=<hex>
 *   disk model=<model> sectors=<n> ncq-depth=<n>
 *   disk read-sum=<sum of sectors 2048-4095>
 *   disk ncq ok                          (or: disk ncq failed ...)
 *   disk-write-flushed                   (or: disk write refused error=<hex>, and no flush)
 *   disk readback-sum=<sum of sectors 4096-4351>
 *   disk readback ok                     (only when the write worked and the data is the pattern)
 *   disk hostile prdt: error reported (HBFS|TFES)
 *   disk recovered: read ok
 *   cd model=<model>
 *   cd vendor=<vendor> product=<product>
 *   cd blocks=<n> blocksize=<n>
 *   cd volume=<volume id>
 *   cd file=<name as recorded> size=<n> sum=<sum>
 *   cd bad opcode: error reported key=<hex>
 *   cd sense key=<hh> asc=<hh> ascq=<hh>
 *   cd hostile prdt: error reported (HBFS|TFES)
 *   cd recovered: read ok
 *   ahci done                            (then powers off)
 *
 * A step that cannot go on prints why and powers off.
 */
#include "guest.h"

#define CLASS_SATA_AHCI 0x010601

/* Generic host control (AHCI 1.3, 3.1). */
#define HBA_CAP 0x00
#define HBA_GHC 0x04
#define HBA_IS 0x08
#define HBA_PI 0x0c
#define HBA_VS 0x10
#define GHC_AE (1u << 31)

/* Port registers (AHCI 1.3, 3.3), offsets in a port's block. */
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

#define IS_SDBS (1u << 3)
#define IS_OFS (1u << 24)
#define IS_INFS (1u << 26)
#define IS_IFS (1u << 27)
#define IS_HBDS (1u << 28)
#define IS_HBFS (1u << 29)
#define IS_TFES (1u << 30)
#define IS_ERRORS (IS_TFES | IS_HBFS | IS_HBDS | IS_IFS | IS_INFS | IS_OFS)

#define TFD_ERR 0x01
#define TFD_DRQ 0x08
#define TFD_BSY 0x80

#define SIG_DISK 0x00000101u
#define SIG_ATAPI 0xeb140101u

/* ATA commands (ATA8-ACS). */
#define ATA_READ_DMA_EXT 0x25
#define ATA_WRITE_DMA_EXT 0x35
#define ATA_READ_FPDMA_QUEUED 0x60
#define ATA_PACKET 0xa0
#define ATA_IDENTIFY_PACKET 0xa1
#define ATA_FLUSH_CACHE_EXT 0xea
#define ATA_IDENTIFY 0xec
#define DEVICE_LBA 0x40

/* SCSI commands (SPC-3, MMC-6). */
#define SCSI_REQUEST_SENSE 0x03
#define SCSI_INQUIRY 0x12
#define SCSI_READ_CAPACITY_10 0x25
#define SCSI_READ_10 0x28
#define SCSI_NO_SUCH_COMMAND 0xff

#define SLOTS 32
#define TABLES 2
#define PRDS 8
/* A guest-physical address far above this VM's RAM. */
#define HOSTILE_ADDRESS 0x7fff00000000ul
#define SPIN_LIMIT 1000000u

/* AHCI 1.3, 4.2: command header, PRD entry, command table. */
struct cmd_header { u32 dw0, prdbc, ctba, ctbau, reserved[4]; };
struct prd { u32 dba, dbau, reserved, dbc; };
struct cmd_table { u8 cfis[64]; u8 acmd[16]; u8 reserved[48]; struct prd prdt[PRDS]; };

static struct cmd_header cmd_list[SLOTS] __attribute__((aligned(1024)));
static u8 rfis[256] __attribute__((aligned(256)));
static struct cmd_table tables[TABLES] __attribute__((aligned(128)));

#define BIG (1u << 20)
#define WRITE_BYTES (128u << 10)
static u8 big[BIG] __attribute__((aligned(4096)));            /* the 1 MiB read, the CD's file */
static u8 wbuf[WRITE_BYTES + (16u << 10)] __attribute__((aligned(4096))); /* the write's pieces, with gaps */
static u8 rbuf[WRITE_BYTES] __attribute__((aligned(4096)));   /* the write read back */
static u8 small[2][8192] __attribute__((aligned(4096)));      /* IDENTIFY, NCQ, SCSI answers, directories */
static u8 pattern[256] __attribute__((aligned(8)));

static u64 abar, px; /* the HBA's registers; the current port's */
static int port_index;
static u32 last_is, last_tfd;

/* ---- small helpers: 64-bit loops, since every instruction may be emulated ---- */

static void zero(void *d, u64 n) {
    u64 *p = d;
    for (u64 i = 0; i < n / 8; i++) p[i] = 0;
}

static int same(const void *a, const void *b, u64 n) {
    const u64 *p = a, *q = b;
    for (u64 i = 0; i < n / 8; i++)
        if (p[i] != q[i]) return 0;
    return 1;
}

/* Fills n bytes (a multiple of 256) with the pattern: byte i = i*7+3, which repeats every 256 bytes. */
static void fill_pattern(u8 *d, u64 n) {
    const u64 *s = (const u64 *)pattern;
    u64 *p = (u64 *)d;
    for (u64 i = 0; i < n / 8; i++) p[i] = s[i % 32];
}

static int is_pattern(const u8 *d, u64 n) {
    for (u64 at = 0; at < n; at += 256)
        if (!same(d + at, pattern, 256)) return 0;
    return 1;
}


static u32 be32(const u8 *b) { return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3]; }
static u32 le32(const u8 *b) { return (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24; }

/* Prints n characters of s without its trailing spaces (and NULs). */
static void put_trimmed(const char *s, int n) {
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == 0)) n--;
    for (int i = 0; i < n; i++) putc(s[i]);
}

static void line(const char *s) {
    puts(s);
    puts("\r\n");
}

/* ---- registers ---- */

static u32 preg(int off) { return mmio_read32(px + off); }
static void preg_write(int off, u32 v) { mmio_write32(px + off, v); }

static void wait_clear(int off, u32 bits, const char *what) {
    for (u32 spins = 0; preg(off) & bits; spins++) {
        if (spins > SPIN_LIMIT) fail(what);
        cpu_relax();
    }
}

/* AHCI 1.3, 10.1.2: ST off, wait for CR; FRE off, wait for FR. */
static void port_stop(void) {
    preg_write(PX_CMD, preg(PX_CMD) & ~CMD_ST);
    wait_clear(PX_CMD, CMD_CR, "port does not stop: CR stays set");
    preg_write(PX_CMD, preg(PX_CMD) & ~CMD_FRE);
    wait_clear(PX_CMD, CMD_FR, "port does not stop: FR stays set");
}

/* ST on, once the device is not busy (a command list override clears BSY and DRQ if it is). */
static void port_start(void) {
    if (preg(PX_TFD) & (TFD_BSY | TFD_DRQ)) {
        preg_write(PX_CMD, preg(PX_CMD) | CMD_CLO);
        wait_clear(PX_CMD, CMD_CLO, "CLO stays set");
        wait_clear(PX_TFD, TFD_BSY | TFD_DRQ, "device stays busy");
    }
    preg_write(PX_CMD, preg(PX_CMD) | CMD_ST);
}

/*
 * Error recovery (AHCI 1.3, 6.2.2): the port stops processing after an error until software clears ST;
 * then the errors are cleared, in PxSERR, PxIS and the HBA's IS, and the port started again.
 */
static void port_recover(void) {
    preg_write(PX_CMD, preg(PX_CMD) & ~CMD_ST);
    wait_clear(PX_CMD, CMD_CR, "recovery: CR stays set");
    preg_write(PX_SERR, 0xffffffffu);
    preg_write(PX_IS, 0xffffffffu);
    mmio_write32(abar + HBA_IS, 1u << port_index);
    port_start();
}

/* ---- commands ---- */

/* A register host-to-device FIS in slot's command table, its header pointing at it, no PRD entries yet. */
static struct cmd_table *command(int slot, u8 opcode, u16 features, u64 lba, u16 count, u8 device, int write, int atapi) {
    struct cmd_table *t = &tables[slot];
    zero(t, sizeof *t);
    u8 *f = t->cfis;
    f[0] = 0x27; /* register H2D */
    f[1] = 0x80; /* C: a command */
    f[2] = opcode;
    f[3] = (u8)features;
    f[4] = (u8)lba;
    f[5] = (u8)(lba >> 8);
    f[6] = (u8)(lba >> 16);
    f[7] = device;
    f[8] = (u8)(lba >> 24);
    f[9] = (u8)(lba >> 32);
    f[10] = (u8)(lba >> 40);
    f[11] = (u8)(features >> 8);
    f[12] = (u8)count;
    f[13] = (u8)(count >> 8);
    struct cmd_header *h = &cmd_list[slot];
    zero(h, sizeof *h);
    h->dw0 = 5 | (atapi ? 1u << 5 : 0) | (write ? 1u << 6 : 0); /* CFL: 5 dwords */
    h->ctba = (u32)(u64)t;
    h->ctbau = (u32)((u64)t >> 32);
    return t;
}

/* One more PRD entry for slot: len bytes (even, at most 4 MiB) at guest-physical address addr. */
static void prd(int slot, u64 addr, u32 len) {
    struct cmd_header *h = &cmd_list[slot];
    u32 n = h->dw0 >> 16;
    if (n >= PRDS) fail("too many PRD entries");
    tables[slot].prdt[n] = (struct prd){(u32)addr, (u32)(addr >> 32), 0, len - 1};
    h->dw0 = (h->dw0 & 0xffff) | (n + 1) << 16;
}

/*
 * Issues the commands in slots (and with queued, marks them active in PxSACT first) and polls until they are
 * done: 0 when PxCI and PxSACT cleared without an error bit in PxIS, -1 on an error (the port is then halted
 * until port_recover). last_is and last_tfd keep what the port said.
 */
static int issue(u32 slots, int queued) {
    barrier(); /* the command list and tables before the registers that hand them over */
    if (queued) preg_write(PX_SACT, slots);
    preg_write(PX_CI, slots);
    for (u32 spins = 0;; spins++) {
        u32 is = preg(PX_IS);
        if (is & IS_ERRORS) {
            last_is = is;
            last_tfd = preg(PX_TFD);
            barrier();
            return -1;
        }
        if (!(preg(PX_CI) & slots) && !(preg(PX_SACT) & slots)) {
            /*
             * Read PxIS again: the HBA completes asynchronously, and the snapshot above may predate the
             * completion (the Set Device Bits FIS sets SDBS as PxSACT clears).
             */
            is = preg(PX_IS);
            last_is = is;
            last_tfd = preg(PX_TFD);
            preg_write(PX_IS, is);
            barrier(); /* the data the device wrote, read after this */
            return 0;
        }
        if (spins > SPIN_LIMIT) fail("timeout: a command never completed");
        cpu_relax();
    }
}

static void expect(int ok, const char *what) {
    if (ok == 0) return;
    puts(what);
    puts(" failed: is=");
    puthex(last_is, 8);
    puts(" tfd=");
    puthex(last_tfd, 4);
    fail("");
}

/* Reads count sectors at lba into buf with READ DMA EXT, one PRD entry. */
static int read_dma(u64 lba, u16 count, void *buf) {
    command(0, ATA_READ_DMA_EXT, 0, lba, count, DEVICE_LBA, 0, 0);
    prd(0, (u64)buf, (u32)count * 512);
    return issue(1, 0);
}

static void print_hostile(const char *who, int r) {
    puts(who);
    if (r == 0) {
        line(" hostile prdt: NO error reported");
        return;
    }
    puts(" hostile prdt: error reported");
    line(last_is & IS_HBFS ? " (HBFS)" : last_is & IS_TFES ? " (TFES)" : " (other)");
}

/* ---- the disk ---- */

static void disk(void) {
    /* IDENTIFY DEVICE: PIO data-in, 512 bytes. */
    u8 *id = small[0];
    command(0, ATA_IDENTIFY, 0, 0, 0, 0, 0, 0);
    prd(0, (u64)id, 512);
    expect(issue(1, 0), "IDENTIFY DEVICE");
    char model[40];
    for (int i = 0; i < 40; i += 2) { /* words 27-46, each word's high byte first */
        model[i] = (char)id[54 + i + 1];
        model[i + 1] = (char)id[54 + i];
    }
    u64 sectors = le32(id + 200) | (u64)le32(id + 204) << 32; /* words 100-103 */
    puts("disk model=");
    put_trimmed(model, 40);
    puts(" sectors=");
    putdec(sectors);
    puts(" ncq-depth=");
    putdec((id[76 * 2 + 1] & 1) ? (u64)(id[75 * 2] & 0x1f) + 1 : 0); /* word 76 bit 8: NCQ; word 75: depth - 1 */
    puts("\r\n");
    if (cmd_list[0].prdbc != 512) fail("IDENTIFY DEVICE: PRDBC is not 512");

    /* 1 MiB at sector 2048, in two PRD entries. */
    command(0, ATA_READ_DMA_EXT, 0, 2048, 2048, DEVICE_LBA, 0, 0);
    prd(0, (u64)big, BIG / 2);
    prd(0, (u64)big + BIG / 2, BIG / 2);
    expect(issue(1, 0), "READ DMA EXT");
    if (cmd_list[0].prdbc != BIG) fail("READ DMA EXT: PRDBC is not 1 MiB");
    puts("disk read-sum=");
    puthex(fnv1a(big, BIG), 8);
    puts("\r\n");

    /* NCQ: two READ FPDMA QUEUED at once, tags = slots 0 and 1, 8 sectors each (count in the features). */
    zero(small, sizeof small);
    command(0, ATA_READ_FPDMA_QUEUED, 8, 2048 + 16, 0 << 3, DEVICE_LBA, 0, 0);
    prd(0, (u64)small[0], 4096);
    command(1, ATA_READ_FPDMA_QUEUED, 8, 2048 + 100, 1 << 3, DEVICE_LBA, 0, 0);
    prd(1, (u64)small[1], 4096);
    int r = issue(3, 1);
    if (r == 0 && (last_is & IS_SDBS) && same(small[0], big + 16 * 512, 4096) && same(small[1], big + 100 * 512, 4096)) {
        line("disk ncq ok");
    } else {
        puts("disk ncq failed: is=");
        puthex(last_is, 8);
        puts(" sact=");
        puthex(preg(PX_SACT), 8);
        puts("\r\n");
        if (r) port_recover();
    }

    /*
     * 128 KiB at sector 4096 from four buffers (4, 60, 32 and 32 KiB) placed in wbuf in the opposite order,
     * with gaps: the data is only right if the HBA follows the PRD table.
     */
    for (int i = 0; i < 256; i++) pattern[i] = (u8)(i * 7 + 3);
    static const u32 piece_len[4] = {4u << 10, 60u << 10, 32u << 10, 32u << 10};
    static const u32 piece_at[4] = {140u << 10, 76u << 10, 40u << 10, 4u << 10};
    zero(wbuf, sizeof wbuf);
    command(0, ATA_WRITE_DMA_EXT, 0, 4096, WRITE_BYTES / 512, DEVICE_LBA, 1, 0);
    for (int k = 0; k < 4; k++) {
        fill_pattern(wbuf + piece_at[k], piece_len[k]); /* each piece starts at a multiple of 256 bytes */
        prd(0, (u64)(wbuf + piece_at[k]), piece_len[k]);
    }
    int written = issue(1, 0) == 0;
    if (written) {
        command(0, ATA_FLUSH_CACHE_EXT, 0, 0, 0, DEVICE_LBA, 0, 0);
        expect(issue(1, 0), "FLUSH CACHE EXT");
        line("disk-write-flushed");
    } else {
        puts("disk write refused error=");
        puthex(last_tfd >> 8, 2);
        puts("\r\n");
        port_recover();
    }
    zero(rbuf, sizeof rbuf);
    expect(read_dma(4096, WRITE_BYTES / 512, rbuf), "READ DMA EXT (readback)");
    puts("disk readback-sum=");
    puthex(fnv1a(rbuf, WRITE_BYTES), 8);
    puts("\r\n");
    if (written) line(is_pattern(rbuf, WRITE_BYTES) ? "disk readback ok" : "disk readback MISMATCH");

    /* A PRD entry outside guest RAM: the HBA must report it, and the port must work again after recovery. */
    command(0, ATA_READ_DMA_EXT, 0, 2048, 8, DEVICE_LBA, 0, 0);
    prd(0, HOSTILE_ADDRESS, 4096);
    print_hostile("disk", issue(1, 0));
    port_recover();
    zero(small[0], 4096);
    expect(read_dma(2048, 8, small[0]), "READ DMA EXT (after recovery)");
    line(same(small[0], big, 4096) ? "disk recovered: read ok" : "disk recovered: read MISMATCH");
}

/* ---- the CD-ROM ---- */

/* A PACKET command with a 12-byte CDB; data-in (DMA) into buf when len is not 0, or to addr. */
static int packet_to(const u8 cdb[12], u64 addr, u32 len) {
    struct cmd_table *t = command(0, ATA_PACKET, len ? 1 : 0, 0xfffe00, 0, 0, 0, 1); /* DMA; byte count limit */
    for (int i = 0; i < 12; i++) t->acmd[i] = cdb[i];
    if (len) prd(0, addr, len);
    return issue(1, 0);
}

static int packet(const u8 cdb[12], void *buf, u32 len) {
    return packet_to(cdb, (u64)buf, len);
}

/* READ(10) of count 2048-byte blocks at lba. */
static int read10_to(u32 lba, u16 count, u64 addr) {
    u8 cdb[12] = {SCSI_READ_10, 0, (u8)(lba >> 24), (u8)(lba >> 16), (u8)(lba >> 8), (u8)lba, 0, (u8)(count >> 8), (u8)count, 0, 0, 0};
    return packet_to(cdb, addr, (u32)count * 2048);
}

static int read10(u32 lba, u16 count, void *buf) {
    return read10_to(lba, count, (u64)buf);
}

static int is_primary_volume(const u8 *d) {
    return d[0] == 1 && d[1] == 'C' && d[2] == 'D' && d[3] == '0' && d[4] == '0' && d[5] == '1';
}

static int upper(int c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }

/* Whether an ISO 9660 file identifier is DATA.BIN, with or without its version (;1). */
static int is_data_bin(const u8 *name, int n) {
    static const char want[] = "DATA.BIN";
    if (n < 8) return 0;
    for (int i = 0; i < 8; i++)
        if (upper(name[i]) != want[i]) return 0;
    return n == 8 || name[8] == ';';
}

static void cdrom(void) {
    u8 *d = small[0];
    command(0, ATA_IDENTIFY_PACKET, 0, 0, 0, 0, 0, 0);
    prd(0, (u64)d, 512);
    expect(issue(1, 0), "IDENTIFY PACKET DEVICE");
    char model[40];
    for (int i = 0; i < 40; i += 2) {
        model[i] = (char)d[54 + i + 1];
        model[i + 1] = (char)d[54 + i];
    }
    puts("cd model=");
    put_trimmed(model, 40);
    puts("\r\n");

    static const u8 inquiry[12] = {SCSI_INQUIRY, 0, 0, 0, 36, 0};
    zero(d, 64);
    expect(packet(inquiry, d, 36), "INQUIRY");
    puts("cd vendor=");
    put_trimmed((const char *)d + 8, 8);
    puts(" product=");
    put_trimmed((const char *)d + 16, 16);
    puts("\r\n");

    static const u8 capacity[12] = {SCSI_READ_CAPACITY_10};
    expect(packet(capacity, d, 8), "READ CAPACITY");
    u32 blocks = be32(d) + 1, block_size = be32(d + 4);
    puts("cd blocks=");
    putdec(blocks);
    puts(" blocksize=");
    putdec(block_size);
    puts("\r\n");
    if (block_size != 2048) fail("cd: not 2048-byte blocks");

    /* The primary volume descriptor, its volume identifier and root directory record. */
    expect(read10(16, 1, d), "READ(10) of LBA 16");
    if (!is_primary_volume(d)) fail("cd: no primary volume descriptor at LBA 16");
    puts("cd volume=");
    put_trimmed((const char *)d + 40, 32);
    puts("\r\n");
    u32 root = le32(d + 156 + 2), root_size = le32(d + 156 + 10);
    if (root_size == 0 || root_size > sizeof small[1]) fail("cd: root directory size unexpected");

    u8 *dir = small[1];
    expect(read10(root, (u16)((root_size + 2047) / 2048), dir), "READ(10) of the root directory");
    u32 extent = 0, size = 0;
    int found = 0;
    char name[40];
    int name_len = 0;
    for (u32 at = 0; at < root_size && !found;) {
        u8 len = dir[at];
        if (len == 0) { /* records do not cross blocks: the rest of this one is padding */
            at = (at / 2048 + 1) * 2048;
            continue;
        }
        if (len < 34 || at + len > root_size) fail("cd: bad directory record");
        int n = dir[at + 32];
        if (!(dir[at + 25] & 2) && n < (int)sizeof name && is_data_bin(dir + at + 33, n)) {
            extent = le32(dir + at + 2);
            size = le32(dir + at + 10);
            for (int i = 0; i < n; i++) name[i] = (char)dir[at + 33 + i];
            name_len = n;
            found = 1;
        }
        at += len;
    }
    if (!found) fail("cd: no DATA.BIN in the root directory");
    if (size > BIG) fail("cd: DATA.BIN is larger than 1 MiB");
    u32 file_blocks = (size + 2047) / 2048;
    if (file_blocks) expect(read10(extent, (u16)file_blocks, big), "READ(10) of DATA.BIN");
    puts("cd file=");
    for (int i = 0; i < name_len; i++) putc(name[i]);
    puts(" size=");
    putdec(size);
    puts(" sum=");
    puthex(fnv1a(big, size), 8);
    puts("\r\n");

    /* A command no drive knows: CHECK CONDITION (ERR, the sense key in the error register), then the sense. */
    static const u8 bogus[12] = {SCSI_NO_SUCH_COMMAND};
    if (packet(bogus, 0, 0) == 0) {
        line("cd bad opcode: NO error reported");
    } else {
        puts("cd bad opcode: error reported key=");
        puthex((last_tfd >> 12) & 0xf, 1);
        puts("\r\n");
        port_recover();
    }
    static const u8 request_sense[12] = {SCSI_REQUEST_SENSE, 0, 0, 0, 18, 0};
    zero(d, 64);
    expect(packet(request_sense, d, 18), "REQUEST SENSE");
    puts("cd sense key=");
    puthex(d[2] & 0xf, 2);
    puts(" asc=");
    puthex(d[12], 2);
    puts(" ascq=");
    puthex(d[13], 2);
    puts("\r\n");

    print_hostile("cd", read10_to(16, 1, HOSTILE_ADDRESS));
    port_recover();
    zero(d, 2048);
    expect(read10(16, 1, d), "READ(10) after recovery");
    line(is_primary_volume(d) ? "cd recovered: read ok" : "cd recovered: read MISMATCH");
}

/* ---- ports and HBAs ---- */

static void port(int p) {
    port_index = p;
    px = abar + 0x100 + 0x80 * (u64)p;
    port_stop();
    zero(cmd_list, sizeof cmd_list);
    zero(rfis, sizeof rfis);
    preg_write(PX_CLB, (u32)(u64)cmd_list);
    preg_write(PX_CLBU, (u32)((u64)cmd_list >> 32));
    preg_write(PX_FB, (u32)(u64)rfis);
    preg_write(PX_FBU, (u32)((u64)rfis >> 32));
    preg_write(PX_IE, 0); /* polled */
    preg_write(PX_CMD, preg(PX_CMD) | CMD_FRE);
    preg_write(PX_SERR, 0xffffffffu);
    preg_write(PX_IS, 0xffffffffu);
    u32 ssts = preg(PX_SSTS);
    u32 sig = preg(PX_SIG);
    puts("port ");
    putdec((u64)p);
    puts(": sig=");
    puthex(sig, 8);
    puts(" ssts=");
    puthex(ssts, 3);
    puts("\r\n");
    if ((ssts & 0xf) != 3) { /* no device, or no phy communication */
        port_stop();
        return;
    }
    port_start();
    if (sig == SIG_DISK) {
        disk();
    } else if (sig == SIG_ATAPI) {
        cdrom();
    } else {
        line("unknown signature: skipped");
    }
    port_stop();
}

static void hba(int dev, int fn) {
    pci_write16(0, dev, fn, 0x04, pci_read16(0, dev, fn, 0x04) | 0x6); /* memory space, bus master */
    u32 bar5 = pci_read32(0, dev, fn, 0x24);
    if (bar5 & 1) fail("BAR5 is not a memory BAR");
    abar = bar5 & ~0xfu;
    if (!abar) fail("BAR5 is not assigned");
    mmio_write32(abar + HBA_GHC, GHC_AE); /* AHCI mode, interrupts off */
    if (!(mmio_read32(abar + HBA_GHC) & GHC_AE)) fail("GHC.AE does not stick");
    u32 cap = mmio_read32(abar + HBA_CAP), pi = mmio_read32(abar + HBA_PI);
    puts("ahci at 00:");
    puthex((u64)dev, 2);
    putc('.');
    puthex((u64)fn, 1);
    puts(" abar=");
    puthex(abar, 8);
    puts(" version=");
    puthex(mmio_read32(abar + HBA_VS), 8);
    puts(" pi=");
    puthex(pi, 8);
    puts(" slots=");
    putdec(((cap >> 8) & 0x1f) + 1);
    puts("\r\n");
    if (((cap >> 8) & 0x1f) + 1 < TABLES) fail("fewer than 2 command slots");
    if (!(cap & 1u << 31)) fail("no 64-bit addressing (CAP.S64A), the hostile address would not reach the HBA");
    for (int p = 0; p < 32; p++)
        if (pi & 1u << p) port(p);
}

static void program(void) {
    uart_init();
    int found = 0;
    for (int dev = 0; dev < 32; dev++) {
        for (int fn = 0; fn < 8; fn++) {
            u32 id = pci_read32(0, dev, fn, 0);
            if ((id & 0xffff) == 0xffff) {
                if (fn == 0) break;
                continue;
            }
            if (pci_read32(0, dev, fn, 0x08) >> 8 == CLASS_SATA_AHCI) {
                hba(dev, fn);
                found++;
            }
            if (fn == 0 && !(pci_read8(0, dev, 0, 0x0e) & 0x80)) break; /* not multi-function */
        }
    }
    if (!found) fail("no AHCI controller");
    line("ahci done");
    power_off();
}

__attribute__((noreturn)) void _start(void) {
    program();
    power_off();
}

/*
 * The in-guest disk workload of scripts/bench-blk, run the same way under every VMM: direct I/O on a
 * whole block device (no guest page cache), timed with CLOCK_MONOTONIC.
 *
 *   blk-workload DEVICE MIB SECONDS
 *
 * Prints one line per test:
 *   bench seqread  MB/s=<x>   (1 MiB reads over the first MIB MiB)
 *   bench seqwrite MB/s=<x>   (1 MiB writes over the same range, then fdatasync)
 *   bench randread IOPS=<x>   (4 KiB reads at random 4 KiB-aligned offsets for SECONDS s, one at a time)
 *
 * Built static by scripts/bench-blk (gcc -O2 -static) and put in the initramfs as /bin/blk-workload.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s DEVICE MIB SECONDS\n", argv[0]);
        return 2;
    }
    long mib = atol(argv[2]);
    double seconds = atof(argv[3]);
    int fd = open(argv[1], O_RDWR | O_DIRECT);
    if (fd < 0) die("open");
    void *buf;
    if (posix_memalign(&buf, 4096, 1 << 20)) die("posix_memalign");
    memset(buf, 0x5a, 1 << 20);

    double t = now();
    for (long i = 0; i < mib; i++)
        if (pread(fd, buf, 1 << 20, i << 20) != 1 << 20) die("pread");
    printf("bench seqread  MB/s=%.1f\n", mib * 1.048576 / (now() - t));
    fflush(stdout);

    t = now();
    for (long i = 0; i < mib; i++)
        if (pwrite(fd, buf, 1 << 20, i << 20) != 1 << 20) die("pwrite");
    if (fdatasync(fd)) die("fdatasync");
    printf("bench seqwrite MB/s=%.1f\n", mib * 1.048576 / (now() - t));
    fflush(stdout);

    unsigned long blocks = (unsigned long)mib * 256, x = 88172645463325252ul, ops = 0;
    t = now();
    double end = t + seconds;
    do {
        for (int k = 0; k < 16; k++, ops++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17; /* xorshift64: same sequence under every VMM */
            if (pread(fd, buf, 4096, (off_t)(x % blocks) * 4096) != 4096) die("pread 4k");
        }
    } while (now() < end);
    printf("bench randread IOPS=%.0f\n", ops / (now() - t));
    return 0;
}

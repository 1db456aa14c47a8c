/*
 * disk-pattern: writes the disk image jhyve's block benchmark guests check (guests/src/main/c/bench-virtio-blk.c,
 * bench-ahci.c), with every byte really written (a sparse image would measure holes), and prints the FNV-1a
 * (32-bit) of its first HASH_BYTES, which the guest prints as hash= after reading them through the device.
 *
 * 512-byte sector s: the 64-bit little-endian words s and ~s ^ MAGIC, then 62 words shared by every sector
 * (an xorshift64 sequence from a fixed seed).
 *
 * usage: disk-pattern FILE BYTES [HASH_BYTES]    (BYTES a multiple of 512; HASH_BYTES defaults to 64 MiB or BYTES)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512
#define MAGIC 0x6a68797665626c6bull
#define CHUNK (1 << 20)

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: disk-pattern FILE BYTES [HASH_BYTES]\n");
        return 2;
    }
    unsigned long long bytes = strtoull(argv[2], 0, 10);
    unsigned long long hash_bytes = argc > 3 ? strtoull(argv[3], 0, 10) : (bytes < (64ull << 20) ? bytes : 64ull << 20);
    if (bytes == 0 || bytes % SECTOR || hash_bytes > bytes) {
        fprintf(stderr, "disk-pattern: BYTES must be a positive multiple of 512 and HASH_BYTES at most BYTES\n");
        return 2;
    }
    uint64_t shared[SECTOR / 8], x = 0x9e3779b97f4a7c15ull;
    for (int j = 2; j < SECTOR / 8; j++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        shared[j] = x;
    }
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "disk-pattern: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    static uint64_t buf[CHUNK / 8];
    uint32_t h = 0x811c9dc5u;
    for (unsigned long long at = 0; at < bytes; at += CHUNK) {
        unsigned long long n = bytes - at < CHUNK ? bytes - at : CHUNK;
        for (unsigned long long k = 0; k < n / SECTOR; k++) {
            uint64_t s = at / SECTOR + k, *w = buf + k * (SECTOR / 8);
            memcpy(w, shared, SECTOR);
            w[0] = s;
            w[1] = ~s ^ MAGIC;
        }
        const unsigned char *p = (const unsigned char *)buf;
        for (unsigned long long i = 0; i < n && at + i < hash_bytes; i++) h = (h ^ p[i]) * 0x01000193u;
        if (write(fd, buf, n) != (ssize_t)n) {
            fprintf(stderr, "disk-pattern: writing %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
    }
    if (fsync(fd) || close(fd)) {
        fprintf(stderr, "disk-pattern: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    printf("%08x\n", h);
    return 0;
}

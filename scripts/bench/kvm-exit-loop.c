/*
 * kvm-exit-loop: the C baseline for scripts/bench-exits. A minimal VMM that runs the same guest as jhyve
 * (guests' exit-loop.bin: N `out` instructions to port 0x510, then an ACPI power-off write to 0x404) on
 * a VM set up as jhyve's KvmVm sets one up (TSS and identity-map addresses, in-kernel irqchip and PIT,
 * KVM's supported CPUID), so both pay the same per exit and differ only in the VMM's own work.
 *
 * usage: kvm-exit-loop IMAGE REPEAT COUNT...
 * For each repeat and count, builds a fresh VM, writes the count at 0x7000, and times from the first
 * KVM_RUN to the power-off exit. Prints "result impl=c exits=COUNT nanos=T" per run.
 * Exit status: 0 on success, 77 when /dev/kvm cannot be opened (skip), 1 on any other failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RAM_SIZE        (16u << 20)     /* as the Java side's VM */
#define BOOT_SECTOR     0x7c00
#define PARAMETERS      0x7000
#define REAL_MODE_SP    0x7000
#define BENCH_PORT      0x510
#define PM1A_CNT        0x404
#define TSS_ADDRESS     0xfffbd000ul    /* the addresses jhyve's KvmVm uses */
#define IDENTITY_MAP    0xfffbc000ul
#define MAX_CPUID       256

static void die(const char *what) {
    fprintf(stderr, "kvm-exit-loop: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int xioctl(int fd, unsigned long request, void *arg, const char *name) {
    int r = ioctl(fd, request, arg);
    if (r < 0) die(name);
    return r;
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static unsigned char image[512 * 1024];
static size_t image_size;

static void read_image(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path);
    image_size = fread(image, 1, sizeof image, f);
    fclose(f);
    if (image_size < 512) { fprintf(stderr, "kvm-exit-loop: %s: not a boot sector\n", path); exit(1); }
}

/* Real mode at 0000:7c00 with everything explicit, as jhyve's RealModeSetup: CR0 = ET, all bases 0. */
static void set_real_mode(int vcpu) {
    struct kvm_sregs s;
    xioctl(vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
    struct kvm_segment code = { .base = 0, .limit = 0xffff, .selector = 0, .type = 0xb, .present = 1, .s = 1 };
    struct kvm_segment data = code;
    data.type = 0x3;
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.cr0 = 0x10;
    s.cr3 = s.cr4 = s.efer = 0;
    xioctl(vcpu, KVM_SET_SREGS, &s, "KVM_SET_SREGS");

    struct kvm_regs r;
    memset(&r, 0, sizeof r);
    r.rip = BOOT_SECTOR;
    r.rdx = 0x80;
    r.rsp = REAL_MODE_SP;
    r.rflags = 2;
    xioctl(vcpu, KVM_SET_REGS, &r, "KVM_SET_REGS");
}

/* One VM, one run of `count` exits; returns the nanoseconds from the first KVM_RUN to power-off. */
static long long run_once(int kvm, struct kvm_cpuid2 *cpuid, uint32_t count) {
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) die("KVM_CREATE_VM");
    if (ioctl(vm, KVM_SET_TSS_ADDR, TSS_ADDRESS) < 0) die("KVM_SET_TSS_ADDR");
    uint64_t identity = IDENTITY_MAP;
    if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0)
        xioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity, "KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) die("KVM_CREATE_IRQCHIP");
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    xioctl(vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");

    unsigned char *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) die("mmap guest RAM");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE, .userspace_addr = (uintptr_t) ram };
    xioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
    memcpy(ram + BOOT_SECTOR, image, image_size);
    memcpy(ram + PARAMETERS, &count, sizeof count);

    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) die("KVM_CREATE_VCPU");
    xioctl(vcpu, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0) die("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");
    set_real_mode(vcpu);

    long long start = now_ns();
    uint32_t exits = 0;
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            die("KVM_RUN");
        }
        if (run->exit_reason != KVM_EXIT_IO) {
            fprintf(stderr, "kvm-exit-loop: unexpected exit reason %u after %u exits\n", run->exit_reason, exits);
            exit(1);
        }
        /* The dispatch a VMM does: which port, which direction; the loop port's writes are dropped. */
        if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == PM1A_CNT) break;
        if (run->io.port == BENCH_PORT) exits++;
    }
    long long nanos = now_ns() - start;
    if (exits != count) {
        fprintf(stderr, "kvm-exit-loop: expected %u exits, saw %u\n", count, exits);
        exit(1);
    }
    munmap(run, run_size);
    close(vcpu);
    close(vm);
    munmap(ram, RAM_SIZE);
    return nanos;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s IMAGE REPEAT COUNT...\n", argv[0]);
        return 1;
    }
    read_image(argv[1]);
    int repeat = atoi(argv[2]);
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        fprintf(stderr, "kvm-exit-loop: /dev/kvm: %s: skipped\n", strerror(errno));
        return 77;
    }
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + MAX_CPUID * sizeof(struct kvm_cpuid_entry2));
    cpuid->nent = MAX_CPUID;
    xioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid, "KVM_GET_SUPPORTED_CPUID");

    for (int r = 0; r < repeat; r++) {
        for (int i = 3; i < argc; i++) {
            uint32_t count = (uint32_t) strtoul(argv[i], NULL, 0);
            printf("result impl=c exits=%u nanos=%lld\n", count, run_once(kvm, cpuid, count));
            fflush(stdout);
        }
    }
    return 0;
}

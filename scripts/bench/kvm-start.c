/*
 * kvm-start: the C reference VMM of scripts/bench-start. The least a VMM must do to run a PVH guest on
 * KVM, set up as jhyve's KvmVm sets one up (TSS and identity-map addresses, in-kernel irqchip and PIT,
 * KVM's supported CPUID, guest RAM private, anonymous and MAP_NORESERVE): load the ELF's PT_LOAD
 * segments, find the PVH entry note, write an hvm_start_info with the command line, enter in 32-bit
 * protected mode with flat segments, and serve COM1's transmit side on standard output. The guest's
 * power-off (ACPI PM1a_CNT at 0x404, or QEMU's isa-debug-exit at 0xf4) ends it with status 1, as jhyve's
 * and QEMU's do. What it costs to start is what any VMM pays at the least, from process start to the
 * guest's first instruction.
 *
 * usage: kvm-start RAM_MIB ELF [CMDLINE]
 * Exit status: 1 on the guest's power-off, 4 on any failure of its own (as jhyve's), 77 when /dev/kvm
 * cannot be opened.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TSS_ADDRESS     0xfffbd000ul
#define IDENTITY_MAP    0xfffbc000ul
#define START_INFO      0x6000
#define CMDLINE_AT      0x7000
#define PVH_MAGIC       0x336ec578u
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define COM1            0x3f8
#define PM1A_CNT        0x404
#define DEBUG_EXIT      0xf4
#define MAX_CPUID       256

static void die(const char *what) {
    fprintf(stderr, "kvm-start: %s: %s\n", what, strerror(errno));
    exit(4);
}

static void fail(const char *what) {
    fprintf(stderr, "kvm-start: %s\n", what);
    exit(4);
}

static int xioctl(int fd, unsigned long request, void *arg, const char *name) {
    int r = ioctl(fd, request, arg);
    if (r < 0) die(name);
    return r;
}

/* Copies the ELF's loadable segments into guest RAM and returns the PVH entry from its note. */
static uint32_t load_pvh(const char *path, uint8_t *ram, uint64_t ram_size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) die(path);
    uint8_t *file = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED) die("mmap ELF");
    close(fd);
    Elf64_Ehdr *eh = (Elf64_Ehdr *) file;
    if ((size_t) st.st_size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64
        || eh->e_phoff > (uint64_t) st.st_size || eh->e_phnum > (st.st_size - eh->e_phoff) / sizeof(Elf64_Phdr))
        fail("not an ELF64 file");
    uint32_t entry = 0;
    Elf64_Phdr *ph = (Elf64_Phdr *) (file + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_offset > (uint64_t) st.st_size || ph[i].p_filesz > st.st_size - ph[i].p_offset) fail("segment outside the file");
        if (ph[i].p_type == PT_LOAD) {
            if (ph[i].p_paddr > ram_size || ph[i].p_memsz > ram_size - ph[i].p_paddr || ph[i].p_filesz > ph[i].p_memsz)
                fail("segment outside guest RAM");
            memcpy(ram + ph[i].p_paddr, file + ph[i].p_offset, ph[i].p_filesz);
        } else if (ph[i].p_type == PT_NOTE) {
            for (uint64_t at = 0; at + sizeof(Elf64_Nhdr) <= ph[i].p_filesz;) {
                Elf64_Nhdr *n = (Elf64_Nhdr *) (file + ph[i].p_offset + at);
                uint64_t name = (n->n_namesz + 3) & ~3ull, desc = (n->n_descsz + 3) & ~3ull;
                uint8_t *d = (uint8_t *) (n + 1) + name;
                if (at + sizeof *n + name + desc > ph[i].p_filesz) break;
                if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 && memcmp(n + 1, "Xen", 4) == 0 && n->n_descsz >= 4)
                    memcpy(&entry, d, 4);
                at += sizeof *n + name + desc;
            }
        }
    }
    munmap(file, st.st_size);
    if (!entry) fail("no PVH entry note");
    return entry;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type) {
    memset(s, 0, sizeof *s);
    s->limit = 0xffffffff;
    s->selector = selector;
    s->type = type;
    s->present = 1;
    s->s = 1;
    s->db = 1;
    s->g = 1;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) { fprintf(stderr, "usage: kvm-start RAM_MIB ELF [CMDLINE]\n"); return 4; }
    uint64_t ram_size = strtoull(argv[1], NULL, 10) << 20;
    if (ram_size < (2u << 20)) fail("RAM_MIB must be at least 2");
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) { fprintf(stderr, "kvm-start: /dev/kvm: %s\n", strerror(errno)); return 77; }
    int vm = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
    xioctl(vm, KVM_SET_TSS_ADDR, (void *) TSS_ADDRESS, "KVM_SET_TSS_ADDR");
    uint64_t identity = IDENTITY_MAP;
    xioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity, "KVM_SET_IDENTITY_MAP_ADDR");
    xioctl(vm, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    xioctl(vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");

    uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) die("mmap guest RAM");
    struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size, .userspace_addr = (uintptr_t) ram };
    xioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");

    uint32_t entry = load_pvh(argv[2], ram, ram_size);
    const char *cmdline = argc == 4 ? argv[3] : "";
    if (strlen(cmdline) >= START_INFO) fail("command line too long");
    strcpy((char *) ram + CMDLINE_AT, cmdline);
    uint32_t *info = (uint32_t *) (ram + START_INFO); /* struct hvm_start_info: magic, version, flags, nr_modules, modlist, cmdline */
    info[0] = PVH_MAGIC;
    info[1] = 1;
    *(uint64_t *) (ram + START_INFO + 24) = CMDLINE_AT;

    int vcpu = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
    int run_size = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + MAX_CPUID * sizeof(struct kvm_cpuid_entry2));
    if (!cpuid) die("calloc");
    cpuid->nent = MAX_CPUID;
    xioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid, "KVM_GET_SUPPORTED_CPUID");
    xioctl(vcpu, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");

    struct kvm_sregs sregs;
    xioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    flat_segment(&sregs.cs, 0x10, 0xb);
    flat_segment(&sregs.ds, 0x18, 0x3);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.cr0 = 0x11; /* PE, ET */
    sregs.cr4 = 0;
    sregs.efer = 0;
    xioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = entry, .rbx = START_INFO, .rflags = 2 };
    xioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");

    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            die("KVM_RUN");
        }
        if (run->exit_reason != KVM_EXIT_IO) {
            fprintf(stderr, "kvm-start: exit reason %u\n", run->exit_reason);
            return 4;
        }
        uint8_t *data = (uint8_t *) run + run->io.data_offset;
        if (run->io.direction == KVM_EXIT_IO_OUT) {
            if (run->io.port == COM1) {
                for (uint32_t i = 0; i < run->io.count; i++)
                    if (write(1, data + i * run->io.size, 1) < 0) die("write");
            } else if (run->io.port == PM1A_CNT || run->io.port == DEBUG_EXIT) {
                return 1;
            }
        } else {
            /* Reads: the UART's line status says "transmitter empty", everything else reads as all ones. */
            memset(data, run->io.port == COM1 + 5 ? 0x60 : 0xff, (size_t) run->io.size * run->io.count);
        }
    }
}

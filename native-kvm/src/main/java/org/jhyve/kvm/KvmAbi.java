package org.jhyve.kvm;

import static org.jhyve.kvm.KvmStructs.KVM_CPUID2;
import static org.jhyve.kvm.KvmStructs.KVM_ENABLE_CAP;
import static org.jhyve.kvm.KvmStructs.KVM_FPU;
import static org.jhyve.kvm.KvmStructs.KVM_GUEST_DEBUG;
import static org.jhyve.kvm.KvmStructs.KVM_IOEVENTFD;
import static org.jhyve.kvm.KvmStructs.KVM_IRQFD;
import static org.jhyve.kvm.KvmStructs.KVM_MSI;
import static org.jhyve.kvm.KvmStructs.KVM_MSR_FILTER;
import static org.jhyve.kvm.KvmStructs.KVM_IRQ_LEVEL;
import static org.jhyve.kvm.KvmStructs.KVM_MP_STATE;
import static org.jhyve.kvm.KvmStructs.KVM_VCPU_EVENTS;
import static org.jhyve.kvm.KvmStructs.KVM_MSRS;
import static org.jhyve.kvm.KvmStructs.KVM_PIT_CONFIG;
import static org.jhyve.kvm.KvmStructs.KVM_REGS;
import static org.jhyve.kvm.KvmStructs.KVM_SREGS;
import static org.jhyve.kvm.KvmStructs.KVM_TRANSLATION;
import static org.jhyve.kvm.KvmStructs.KVM_USERSPACE_MEMORY_REGION;

import java.util.List;

/**
 * The KVM ABI's numbers, from {@code <linux/kvm.h>}: ioctl requests (built with the {@code _IO*} helpers of
 * {@link Ioctl} from the struct layouts, so a wrong layout size also shows as a wrong ioctl number) and the
 * constants jhyve uses. {@code KvmAbiTest} checks each number against the value the C header gives.
 */
final class KvmAbi {
    private KvmAbi() {}

    /** The ioctl type byte of every KVM request ({@code KVMIO}). */
    static final int KVMIO = 0xAE;
    /** {@code KVM_GET_API_VERSION} must return this; it has not changed since Linux 2.6.22. */
    static final int API_VERSION = 12;

    // --- /dev/kvm ioctls ---------------------------------------------------------------------------
    static final Ioctl GET_API_VERSION = Ioctl.io("KVM_GET_API_VERSION", KVMIO, 0x00);
    static final Ioctl CREATE_VM = Ioctl.io("KVM_CREATE_VM", KVMIO, 0x01);
    /** Also valid on a VM fd (with KVM_CAP_CHECK_EXTENSION_VM). */
    static final Ioctl CHECK_EXTENSION = Ioctl.io("KVM_CHECK_EXTENSION", KVMIO, 0x03);
    static final Ioctl GET_VCPU_MMAP_SIZE = Ioctl.io("KVM_GET_VCPU_MMAP_SIZE", KVMIO, 0x04);
    /** Sized by the {@code kvm_cpuid2} header alone: the entries are a flexible array. */
    static final Ioctl GET_SUPPORTED_CPUID = Ioctl.iowr("KVM_GET_SUPPORTED_CPUID", KVMIO, 0x05, KVM_CPUID2.byteSize());

    // --- VM ioctls ---------------------------------------------------------------------------------
    static final Ioctl CREATE_VCPU = Ioctl.io("KVM_CREATE_VCPU", KVMIO, 0x41);
    static final Ioctl SET_USER_MEMORY_REGION = Ioctl.iow("KVM_SET_USER_MEMORY_REGION", KVMIO, 0x46, KVM_USERSPACE_MEMORY_REGION.byteSize());
    static final Ioctl SET_TSS_ADDR = Ioctl.io("KVM_SET_TSS_ADDR", KVMIO, 0x47);
    /** The argument is a pointer to a {@code __u64}. */
    static final Ioctl SET_IDENTITY_MAP_ADDR = Ioctl.iow("KVM_SET_IDENTITY_MAP_ADDR", KVMIO, 0x48, Long.BYTES);
    static final Ioctl CREATE_IRQCHIP = Ioctl.io("KVM_CREATE_IRQCHIP", KVMIO, 0x60);
    static final Ioctl IRQ_LINE = Ioctl.iow("KVM_IRQ_LINE", KVMIO, 0x61, KVM_IRQ_LEVEL.byteSize());
    static final Ioctl IRQFD = Ioctl.iow("KVM_IRQFD", KVMIO, 0x76, KVM_IRQFD.byteSize());
    static final Ioctl CREATE_PIT2 = Ioctl.iow("KVM_CREATE_PIT2", KVMIO, 0x77, KVM_PIT_CONFIG.byteSize());
    static final Ioctl IOEVENTFD = Ioctl.iow("KVM_IOEVENTFD", KVMIO, 0x79, KVM_IOEVENTFD.byteSize());
    /** Userspace interrupt platform only: an external interrupt for the next entry; a vCPU ioctl. */
    static final Ioctl INTERRUPT = Ioctl.iow("KVM_INTERRUPT", KVMIO, 0x86, Integer.BYTES);
    static final Ioctl NMI = Ioctl.io("KVM_NMI", KVMIO, 0x9a);
    static final Ioctl GET_TSC_KHZ = Ioctl.io("KVM_GET_TSC_KHZ", KVMIO, 0xa3);
    static final Ioctl X86_SET_MSR_FILTER = Ioctl.iow("KVM_X86_SET_MSR_FILTER", KVMIO, 0xc6, KVM_MSR_FILTER.byteSize());
    static final Ioctl SIGNAL_MSI = Ioctl.iow("KVM_SIGNAL_MSI", KVMIO, 0xa5, KVM_MSI.byteSize());
    static final Ioctl ENABLE_CAP = Ioctl.iow("KVM_ENABLE_CAP", KVMIO, 0xa3, KVM_ENABLE_CAP.byteSize());

    // --- vCPU ioctls -------------------------------------------------------------------------------
    static final Ioctl RUN = Ioctl.io("KVM_RUN", KVMIO, 0x80);
    static final Ioctl GET_REGS = Ioctl.ior("KVM_GET_REGS", KVMIO, 0x81, KVM_REGS.byteSize());
    static final Ioctl SET_REGS = Ioctl.iow("KVM_SET_REGS", KVMIO, 0x82, KVM_REGS.byteSize());
    static final Ioctl GET_SREGS = Ioctl.ior("KVM_GET_SREGS", KVMIO, 0x83, KVM_SREGS.byteSize());
    static final Ioctl SET_SREGS = Ioctl.iow("KVM_SET_SREGS", KVMIO, 0x84, KVM_SREGS.byteSize());
    static final Ioctl TRANSLATE = Ioctl.iowr("KVM_TRANSLATE", KVMIO, 0x85, KVM_TRANSLATION.byteSize());
    /** Returns the number of MSRs read: it stops at the first one KVM refuses. */
    static final Ioctl GET_MSRS = Ioctl.iowr("KVM_GET_MSRS", KVMIO, 0x88, KVM_MSRS.byteSize());
    /** Returns the number of MSRs written: it stops at the first one KVM refuses. */
    static final Ioctl SET_MSRS = Ioctl.iow("KVM_SET_MSRS", KVMIO, 0x89, KVM_MSRS.byteSize());
    static final Ioctl GET_FPU = Ioctl.ior("KVM_GET_FPU", KVMIO, 0x8c, KVM_FPU.byteSize());
    static final Ioctl SET_FPU = Ioctl.iow("KVM_SET_FPU", KVMIO, 0x8d, KVM_FPU.byteSize());
    /** struct kvm_xsave is a 4 KiB region in the XSAVE layout (the legacy FXSAVE area first). */
    static final long XSAVE_SIZE = 4096;
    /** struct kvm_lapic_state: the local APIC's 1 KiB register page. */
    static final long LAPIC_STATE_SIZE = 1024;
    static final Ioctl GET_LAPIC = Ioctl.ior("KVM_GET_LAPIC", KVMIO, 0x8e, LAPIC_STATE_SIZE);
    static final Ioctl SET_LAPIC = Ioctl.iow("KVM_SET_LAPIC", KVMIO, 0x8f, LAPIC_STATE_SIZE);
    static final Ioctl GET_XSAVE = Ioctl.ior("KVM_GET_XSAVE", KVMIO, 0xa4, XSAVE_SIZE);
    static final Ioctl SET_XSAVE = Ioctl.iow("KVM_SET_XSAVE", KVMIO, 0xa5, XSAVE_SIZE);
    /** In the FXSAVE area: MXCSR at byte 24; in the XSAVE header at 512: XSTATE_BV, whose bit 1 is SSE state. */
    static final long XSAVE_MXCSR = 24;
    static final long XSAVE_XSTATE_BV = 512;
    static final Ioctl SET_CPUID2 = Ioctl.iow("KVM_SET_CPUID2", KVMIO, 0x90, KVM_CPUID2.byteSize());
    static final Ioctl GET_MP_STATE = Ioctl.ior("KVM_GET_MP_STATE", KVMIO, 0x98, KVM_MP_STATE.byteSize());
    static final Ioctl SET_MP_STATE = Ioctl.iow("KVM_SET_MP_STATE", KVMIO, 0x99, KVM_MP_STATE.byteSize());
    static final Ioctl GET_VCPU_EVENTS = Ioctl.ior("KVM_GET_VCPU_EVENTS", KVMIO, 0x9f, KVM_VCPU_EVENTS.byteSize());
    static final Ioctl SET_VCPU_EVENTS = Ioctl.iow("KVM_SET_VCPU_EVENTS", KVMIO, 0xa0, KVM_VCPU_EVENTS.byteSize());
    static final Ioctl SET_GUEST_DEBUG = Ioctl.iow("KVM_SET_GUEST_DEBUG", KVMIO, 0x9b, KVM_GUEST_DEBUG.byteSize());

    // --- exit reasons (kvm_run.exit_reason) ----------------------------------------------------------
    static final int EXIT_UNKNOWN = 0;
    static final int EXIT_EXCEPTION = 1;
    static final int EXIT_IO = 2;
    static final int EXIT_HYPERCALL = 3;
    static final int EXIT_DEBUG = 4;
    static final int EXIT_HLT = 5;
    static final int EXIT_MMIO = 6;
    static final int EXIT_IRQ_WINDOW_OPEN = 7;
    static final int EXIT_SHUTDOWN = 8;
    static final int EXIT_FAIL_ENTRY = 9;
    static final int EXIT_INTR = 10;
    static final int EXIT_INTERNAL_ERROR = 17;
    static final int EXIT_SYSTEM_EVENT = 24;
    static final int EXIT_X86_RDMSR = 29;
    static final int EXIT_X86_WRMSR = 30;

    /** {@code KVM_CAP_X86_USER_SPACE_MSR}'s argument: which refused MSR accesses exit to userspace. */
    static final long MSR_EXIT_REASON_INVAL = 1;
    static final long MSR_EXIT_REASON_UNKNOWN = 1 << 1;
    static final long MSR_EXIT_REASON_FILTER = 1 << 2;
    /** {@code kvm_msr_filter_range.flags}. */
    static final int MSR_FILTER_READ = 1;
    static final int MSR_FILTER_WRITE = 1 << 1;

    /** Names of {@code KVM_EXIT_*} codes 0..37, for {@link org.jhyve.hv.VmExit.Unknown} and logs. */
    private static final List<String> EXIT_NAMES = List.of(
        "UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT", "MMIO", "IRQ_WINDOW_OPEN", "SHUTDOWN",
        "FAIL_ENTRY", "INTR", "SET_TPR", "TPR_ACCESS", "S390_SIEIC", "S390_RESET", "DCR", "NMI",
        "INTERNAL_ERROR", "OSI", "PAPR_HCALL", "S390_UCONTROL", "WATCHDOG", "S390_TSCH", "EPR", "SYSTEM_EVENT",
        "S390_STSI", "IOAPIC_EOI", "HYPERV", "ARM_NISV", "X86_RDMSR", "X86_WRMSR", "DIRTY_RING_FULL",
        "AP_RESET_HOLD", "X86_BUS_LOCK", "XEN", "RISCV_SBI", "RISCV_CSR", "NOTIFY");

    static String exitName(int reason) {
        return "KVM_EXIT_" + (reason >= 0 && reason < EXIT_NAMES.size() ? EXIT_NAMES.get(reason) : Integer.toString(reason));
    }

    /** {@code kvm_run.io.direction}. */
    static final int EXIT_IO_IN = 0;
    static final int EXIT_IO_OUT = 1;

    /** {@code kvm_run.internal.suberror} for an instruction-emulation failure. */
    static final int INTERNAL_ERROR_EMULATION = 1;
    /** In {@code emulation_failure.flags}: {@code insn_size} and {@code insn_bytes} are valid. */
    static final long INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES = 1L;

    /** {@code kvm_run.system_event.type}. */
    static final int SYSTEM_EVENT_SHUTDOWN = 1;
    static final int SYSTEM_EVENT_RESET = 2;
    static final int SYSTEM_EVENT_CRASH = 3;

    // --- flags -------------------------------------------------------------------------------------
    /** {@code kvm_pit_config.flags}: port 0x61 speaker bits are emulated as a dummy, as QEMU does. */
    static final int PIT_SPEAKER_DUMMY = 1;
    static final int IOEVENTFD_FLAG_DATAMATCH = 1;
    static final int IOEVENTFD_FLAG_PIO = 1 << 1;
    static final int IOEVENTFD_FLAG_DEASSIGN = 1 << 2;
    static final int IRQFD_FLAG_DEASSIGN = 1;

    /** {@code kvm_guest_debug.control}. */
    static final int GUESTDBG_ENABLE = 0x1;
    static final int GUESTDBG_SINGLESTEP = 0x2;
    static final int GUESTDBG_USE_SW_BP = 0x1_0000;
    static final int GUESTDBG_USE_HW_BP = 0x2_0000;
    /** No interrupt is delivered while single-stepping (Linux 5.16+): a step stays in the code being debugged. */
    static final int GUESTDBG_BLOCKIRQ = 0x20_0000;

    /** {@code kvm_mp_state.mp_state} values. */
    static final int MP_STATE_RUNNABLE = 0;
    static final int MP_STATE_UNINITIALIZED = 1;
    static final int MP_STATE_INIT_RECEIVED = 2;
    static final int MP_STATE_HALTED = 3;
    static final int MP_STATE_SIPI_RECEIVED = 4;

    /**
     * Where KVM on Intel VMX puts the three-page real-mode TSS and the identity-map page table it needs to
     * run real mode / unpaged protected mode; QEMU and kvmtool use these addresses, just below the BIOS ROM
     * and inside the PCI hole, where no RAM or device lives.
     */
    static final long TSS_ADDRESS = 0xfffb_d000L;
    static final long IDENTITY_MAP_ADDRESS = 0xfffb_c000L;

    /** {@code kvm_cpuid2} entries to offer at first (doubled on E2BIG), and the most jhyve will offer. */
    static final int CPUID_ENTRIES_INITIAL = 128;
    static final int CPUID_ENTRIES_MAX = 4096;
}

package org.jhyve.kvm;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The KVM structs jhyve passes to and from the kernel, as {@link StructLayout}s written from
 * {@code <linux/kvm.h>} and {@code <asm/kvm.h>} (x86-64). Field names are the kernel's; the anonymous
 * exit union of {@code kvm_run} is named {@code exit}. {@code structLayout} checks every field's natural
 * alignment, so a forgotten padding field fails at class initialisation; {@code KvmStructsTest} checks
 * sizes and offsets against the values gcc printed for the real headers.
 *
 * <p>Code reads fields through the {@code long} offsets below with plain {@code MemorySegment.get/set}:
 * as fast as a VarHandle, and the offsets are what the layout tests pin down.
 */
final class KvmStructs {
    private KvmStructs() {}

    // --- building blocks -------------------------------------------------------------------------
    private static ValueLayout u8(String name) { return ValueLayout.JAVA_BYTE.withName(name); }

    private static ValueLayout u16(String name) { return ValueLayout.JAVA_SHORT.withName(name); }

    private static ValueLayout u32(String name) { return ValueLayout.JAVA_INT.withName(name); }

    private static ValueLayout u64(String name) { return ValueLayout.JAVA_LONG.withName(name); }

    private static SequenceLayout bytes(String name, long n) {
        return MemoryLayout.sequenceLayout(n, ValueLayout.JAVA_BYTE).withName(name);
    }

    private static SequenceLayout array(String name, long n, MemoryLayout element) {
        return MemoryLayout.sequenceLayout(n, element).withName(name);
    }

    private static StructLayout struct(String name, MemoryLayout... fields) {
        return MemoryLayout.structLayout(fields).withName(name);
    }

    /** Byte offset of a (nested) field. */
    static long offset(GroupLayout layout, String... path) {
        return layout.byteOffset(Arrays.stream(path).map(MemoryLayout.PathElement::groupElement)
                .toArray(MemoryLayout.PathElement[]::new));
    }

    // --- kvm_run (mmap'd per vCPU) ---------------------------------------------------------------
    static final StructLayout RUN_IO = struct("io",
            u8("direction"), u8("size"), u16("port"), u32("count"), u64("data_offset"));
    static final StructLayout RUN_MMIO = struct("mmio",
            u64("phys_addr"), bytes("data", 8), u32("len"), u8("is_write"), MemoryLayout.paddingLayout(3));
    static final StructLayout RUN_HW = struct("hw", u64("hardware_exit_reason"));
    static final StructLayout RUN_FAIL_ENTRY = struct("fail_entry",
            u64("hardware_entry_failure_reason"), u32("cpu"), MemoryLayout.paddingLayout(4));
    static final StructLayout RUN_EX = struct("ex", u32("exception"), u32("error_code"));
    /** {@code struct kvm_debug_exit_arch} wrapped as {@code debug.arch}. */
    static final StructLayout RUN_DEBUG = struct("debug", struct("arch",
            u32("exception"), u32("pad"), u64("pc"), u64("dr6"), u64("dr7")));
    static final StructLayout RUN_INTERNAL = struct("internal",
            u32("suberror"), u32("ndata"), array("data", 16, ValueLayout.JAVA_LONG));
    /** The overlay of {@code internal} used for {@code KVM_INTERNAL_ERROR_EMULATION}. */
    static final StructLayout RUN_EMULATION_FAILURE = struct("emulation_failure",
            u32("suberror"), u32("ndata"), u64("flags"), u8("insn_size"), bytes("insn_bytes", 15));
    static final StructLayout RUN_SYSTEM_EVENT = struct("system_event",
            u32("type"), u32("ndata"),
            MemoryLayout.unionLayout(u64("flags"), array("data", 16, ValueLayout.JAVA_LONG)).withName("u"));
    /** KVM_EXIT_X86_RDMSR / WRMSR: {@code error} is the VMM's answer (non-zero: #GP). */
    static final StructLayout RUN_MSR = struct("msr",
            u8("error"), bytes("pad", 7), u32("reason"), u32("index"), u64("data"));
    static final UnionLayout RUN_EXIT = MemoryLayout.unionLayout(RUN_HW, RUN_FAIL_ENTRY, RUN_EX, RUN_IO, RUN_DEBUG,
            RUN_MMIO, RUN_INTERNAL, RUN_EMULATION_FAILURE, RUN_SYSTEM_EVENT, RUN_MSR, bytes("padding", 256)).withName("exit");

    static final StructLayout KVM_RUN = struct("kvm_run",
            u8("request_interrupt_window"), u8("immediate_exit"), bytes("padding1", 6),
            u32("exit_reason"), u8("ready_for_interrupt_injection"), u8("if_flag"), u16("flags"),
            u64("cr8"), u64("apic_base"),
            RUN_EXIT,
            u64("kvm_valid_regs"), u64("kvm_dirty_regs"),
            bytes("s", 2048));

    static final long RUN_IMMEDIATE_EXIT = offset(KVM_RUN, "immediate_exit");
    static final long RUN_REQUEST_INTERRUPT_WINDOW = offset(KVM_RUN, "request_interrupt_window");
    static final long RUN_READY_FOR_INTERRUPT_INJECTION = offset(KVM_RUN, "ready_for_interrupt_injection");
    static final long RUN_IF_FLAG = offset(KVM_RUN, "if_flag");
    static final long RUN_CR8 = offset(KVM_RUN, "cr8");
    static final long RUN_MSR_ERROR = offset(KVM_RUN, "exit", "msr", "error");
    static final long RUN_MSR_INDEX = offset(KVM_RUN, "exit", "msr", "index");
    static final long RUN_MSR_DATA = offset(KVM_RUN, "exit", "msr", "data");
    static final long RUN_EXIT_REASON = offset(KVM_RUN, "exit_reason");
    static final long RUN_IO_DIRECTION = offset(KVM_RUN, "exit", "io", "direction");
    static final long RUN_IO_SIZE = offset(KVM_RUN, "exit", "io", "size");
    static final long RUN_IO_PORT = offset(KVM_RUN, "exit", "io", "port");
    static final long RUN_IO_COUNT = offset(KVM_RUN, "exit", "io", "count");
    static final long RUN_IO_DATA_OFFSET = offset(KVM_RUN, "exit", "io", "data_offset");
    static final long RUN_MMIO_PHYS_ADDR = offset(KVM_RUN, "exit", "mmio", "phys_addr");
    static final long RUN_MMIO_DATA = offset(KVM_RUN, "exit", "mmio", "data");
    static final long RUN_MMIO_LEN = offset(KVM_RUN, "exit", "mmio", "len");
    static final long RUN_MMIO_IS_WRITE = offset(KVM_RUN, "exit", "mmio", "is_write");
    static final long RUN_HW_EXIT_REASON = offset(KVM_RUN, "exit", "hw", "hardware_exit_reason");
    static final long RUN_FAIL_ENTRY_REASON = offset(KVM_RUN, "exit", "fail_entry", "hardware_entry_failure_reason");
    static final long RUN_EX_EXCEPTION = offset(KVM_RUN, "exit", "ex", "exception");
    static final long RUN_EX_ERROR_CODE = offset(KVM_RUN, "exit", "ex", "error_code");
    static final long RUN_DEBUG_EXCEPTION = offset(KVM_RUN, "exit", "debug", "arch", "exception");
    static final long RUN_DEBUG_PC = offset(KVM_RUN, "exit", "debug", "arch", "pc");
    static final long RUN_DEBUG_DR6 = offset(KVM_RUN, "exit", "debug", "arch", "dr6");
    static final long RUN_DEBUG_DR7 = offset(KVM_RUN, "exit", "debug", "arch", "dr7");
    static final long RUN_INTERNAL_SUBERROR = offset(KVM_RUN, "exit", "internal", "suberror");
    static final long RUN_INTERNAL_NDATA = offset(KVM_RUN, "exit", "internal", "ndata");
    static final long RUN_INTERNAL_DATA = offset(KVM_RUN, "exit", "internal", "data");
    static final int RUN_INTERNAL_DATA_MAX = 16;
    static final long RUN_EMULATION_FLAGS = offset(KVM_RUN, "exit", "emulation_failure", "flags");
    static final long RUN_EMULATION_INSN_SIZE = offset(KVM_RUN, "exit", "emulation_failure", "insn_size");
    static final long RUN_EMULATION_INSN_BYTES = offset(KVM_RUN, "exit", "emulation_failure", "insn_bytes");
    static final int RUN_EMULATION_INSN_MAX = 15;
    static final long RUN_SYSTEM_EVENT_TYPE = offset(KVM_RUN, "exit", "system_event", "type");
    static final long RUN_SYSTEM_EVENT_FLAGS = offset(KVM_RUN, "exit", "system_event", "u", "flags");

    // --- MSR filter (KVM_X86_SET_MSR_FILTER) ------------------------------------------------------
    static final StructLayout KVM_MSR_FILTER_RANGE = struct("kvm_msr_filter_range",
            u32("flags"), u32("nmsrs"), u32("base"), MemoryLayout.paddingLayout(4), u64("bitmap"));
    static final int MSR_FILTER_MAX_RANGES = 16;
    static final StructLayout KVM_MSR_FILTER = struct("kvm_msr_filter",
            u32("flags"), MemoryLayout.paddingLayout(4), array("ranges", MSR_FILTER_MAX_RANGES, KVM_MSR_FILTER_RANGE));
    static final long MSR_FILTER_RANGES = offset(KVM_MSR_FILTER, "ranges");
    static final long MSR_RANGE_FLAGS = offset(KVM_MSR_FILTER_RANGE, "flags");
    static final long MSR_RANGE_NMSRS = offset(KVM_MSR_FILTER_RANGE, "nmsrs");
    static final long MSR_RANGE_BASE = offset(KVM_MSR_FILTER_RANGE, "base");
    static final long MSR_RANGE_BITMAP = offset(KVM_MSR_FILTER_RANGE, "bitmap");

    // --- registers -------------------------------------------------------------------------------
    static final StructLayout KVM_REGS = struct("kvm_regs",
            u64("rax"), u64("rbx"), u64("rcx"), u64("rdx"), u64("rsi"), u64("rdi"), u64("rsp"), u64("rbp"),
            u64("r8"), u64("r9"), u64("r10"), u64("r11"), u64("r12"), u64("r13"), u64("r14"), u64("r15"),
            u64("rip"), u64("rflags"));

    static final StructLayout KVM_SEGMENT = struct("kvm_segment",
            u64("base"), u32("limit"), u16("selector"), u8("type"),
            u8("present"), u8("dpl"), u8("db"), u8("s"), u8("l"), u8("g"), u8("avl"), u8("unusable"), u8("padding"));
    static final long SEG_BASE = offset(KVM_SEGMENT, "base");
    static final long SEG_LIMIT = offset(KVM_SEGMENT, "limit");
    static final long SEG_SELECTOR = offset(KVM_SEGMENT, "selector");
    static final long SEG_TYPE = offset(KVM_SEGMENT, "type");
    static final long SEG_PRESENT = offset(KVM_SEGMENT, "present");
    static final long SEG_DPL = offset(KVM_SEGMENT, "dpl");
    static final long SEG_DB = offset(KVM_SEGMENT, "db");
    static final long SEG_S = offset(KVM_SEGMENT, "s");
    static final long SEG_L = offset(KVM_SEGMENT, "l");
    static final long SEG_G = offset(KVM_SEGMENT, "g");
    static final long SEG_AVL = offset(KVM_SEGMENT, "avl");
    static final long SEG_UNUSABLE = offset(KVM_SEGMENT, "unusable");

    static final StructLayout KVM_DTABLE = struct("kvm_dtable", u64("base"), u16("limit"), array("padding", 3, ValueLayout.JAVA_SHORT));
    static final long DTABLE_BASE = offset(KVM_DTABLE, "base");
    static final long DTABLE_LIMIT = offset(KVM_DTABLE, "limit");

    static final StructLayout KVM_SREGS = struct("kvm_sregs",
            KVM_SEGMENT.withName("cs"), KVM_SEGMENT.withName("ds"), KVM_SEGMENT.withName("es"),
            KVM_SEGMENT.withName("fs"), KVM_SEGMENT.withName("gs"), KVM_SEGMENT.withName("ss"),
            KVM_SEGMENT.withName("tr"), KVM_SEGMENT.withName("ldt"),
            KVM_DTABLE.withName("gdt"), KVM_DTABLE.withName("idt"),
            u64("cr0"), u64("cr2"), u64("cr3"), u64("cr4"), u64("cr8"), u64("efer"), u64("apic_base"),
            array("interrupt_bitmap", 4, ValueLayout.JAVA_LONG));

    static final StructLayout KVM_FPU = struct("kvm_fpu",
            array("fpr", 8, bytes("reg", 16)), u16("fcw"), u16("fsw"), u8("ftwx"), u8("pad1"), u16("last_opcode"),
            u64("last_ip"), u64("last_dp"), array("xmm", 16, bytes("reg", 16)), u32("mxcsr"), u32("pad2"));

    /** Header of {@code kvm_msrs}; {@code nmsrs} entries of {@link #KVM_MSR_ENTRY} follow. */
    static final StructLayout KVM_MSRS = struct("kvm_msrs", u32("nmsrs"), u32("pad"));
    static final long MSRS_NMSRS = offset(KVM_MSRS, "nmsrs");
    static final StructLayout KVM_MSR_ENTRY = struct("kvm_msr_entry", u32("index"), u32("reserved"), u64("data"));
    static final long MSR_ENTRY_INDEX = offset(KVM_MSR_ENTRY, "index");
    static final long MSR_ENTRY_DATA = offset(KVM_MSR_ENTRY, "data");

    /** Header of {@code kvm_cpuid2}; {@code nent} entries of {@link #KVM_CPUID_ENTRY2} follow. */
    static final StructLayout KVM_CPUID2 = struct("kvm_cpuid2", u32("nent"), u32("padding"));
    static final long CPUID2_NENT = offset(KVM_CPUID2, "nent");
    static final StructLayout KVM_CPUID_ENTRY2 = struct("kvm_cpuid_entry2",
            u32("function"), u32("index"), u32("flags"), u32("eax"), u32("ebx"), u32("ecx"), u32("edx"),
            array("padding", 3, ValueLayout.JAVA_INT));
    static final long CPUID_FUNCTION = offset(KVM_CPUID_ENTRY2, "function");
    static final long CPUID_INDEX = offset(KVM_CPUID_ENTRY2, "index");
    static final long CPUID_FLAGS = offset(KVM_CPUID_ENTRY2, "flags");
    static final long CPUID_EAX = offset(KVM_CPUID_ENTRY2, "eax");
    static final long CPUID_EBX = offset(KVM_CPUID_ENTRY2, "ebx");
    static final long CPUID_ECX = offset(KVM_CPUID_ENTRY2, "ecx");
    static final long CPUID_EDX = offset(KVM_CPUID_ENTRY2, "edx");

    // --- VM-level structs ------------------------------------------------------------------------
    static final StructLayout KVM_USERSPACE_MEMORY_REGION = struct("kvm_userspace_memory_region",
            u32("slot"), u32("flags"), u64("guest_phys_addr"), u64("memory_size"), u64("userspace_addr"));
    static final long MEMREG_SLOT = offset(KVM_USERSPACE_MEMORY_REGION, "slot");
    static final long MEMREG_FLAGS = offset(KVM_USERSPACE_MEMORY_REGION, "flags");
    static final long MEMREG_GUEST_PHYS_ADDR = offset(KVM_USERSPACE_MEMORY_REGION, "guest_phys_addr");
    static final long MEMREG_MEMORY_SIZE = offset(KVM_USERSPACE_MEMORY_REGION, "memory_size");
    static final long MEMREG_USERSPACE_ADDR = offset(KVM_USERSPACE_MEMORY_REGION, "userspace_addr");

    /** {@code irq} shares its word with {@code status} (a union in the header). */
    static final StructLayout KVM_IRQ_LEVEL = struct("kvm_irq_level", u32("irq"), u32("level"));
    static final long IRQ_LEVEL_IRQ = offset(KVM_IRQ_LEVEL, "irq");
    static final long IRQ_LEVEL_LEVEL = offset(KVM_IRQ_LEVEL, "level");

    static final StructLayout KVM_PIT_CONFIG = struct("kvm_pit_config", u32("flags"), array("pad", 15, ValueLayout.JAVA_INT));
    static final long PIT_CONFIG_FLAGS = offset(KVM_PIT_CONFIG, "flags");

    static final StructLayout KVM_IOEVENTFD = struct("kvm_ioeventfd",
            u64("datamatch"), u64("addr"), u32("len"), u32("fd"), u32("flags"), bytes("pad", 36));
    static final long IOEVENTFD_DATAMATCH = offset(KVM_IOEVENTFD, "datamatch");
    static final long IOEVENTFD_ADDR = offset(KVM_IOEVENTFD, "addr");
    static final long IOEVENTFD_LEN = offset(KVM_IOEVENTFD, "len");
    static final long IOEVENTFD_FD = offset(KVM_IOEVENTFD, "fd");
    static final long IOEVENTFD_FLAGS = offset(KVM_IOEVENTFD, "flags");

    static final StructLayout KVM_MSI = struct("kvm_msi",
            u32("address_lo"), u32("address_hi"), u32("data"), u32("flags"), u32("devid"), bytes("pad", 12));
    static final long MSI_ADDRESS_LO = offset(KVM_MSI, "address_lo");
    static final long MSI_ADDRESS_HI = offset(KVM_MSI, "address_hi");
    static final long MSI_DATA = offset(KVM_MSI, "data");

    static final StructLayout KVM_IRQFD = struct("kvm_irqfd",
            u32("fd"), u32("gsi"), u32("flags"), u32("resamplefd"), bytes("pad", 16));
    static final long IRQFD_FD = offset(KVM_IRQFD, "fd");
    static final long IRQFD_GSI = offset(KVM_IRQFD, "gsi");
    static final long IRQFD_FLAGS = offset(KVM_IRQFD, "flags");

    static final StructLayout KVM_TRANSLATION = struct("kvm_translation",
            u64("linear_address"), u64("physical_address"), u8("valid"), u8("writeable"), u8("usermode"), bytes("pad", 5));
    static final long TRANSLATION_LINEAR = offset(KVM_TRANSLATION, "linear_address");
    static final long TRANSLATION_PHYSICAL = offset(KVM_TRANSLATION, "physical_address");
    static final long TRANSLATION_VALID = offset(KVM_TRANSLATION, "valid");

    static final StructLayout KVM_MP_STATE = struct("kvm_mp_state", u32("mp_state"));

    /** kvm_vcpu_events: only the exception part and flags are touched; the rest is written back as read. */
    static final StructLayout KVM_VCPU_EVENTS = struct("kvm_vcpu_events",
            u8("exception_injected"), u8("exception_nr"), u8("exception_has_error_code"), u8("exception_pending"),
            u32("exception_error_code"),
            bytes("interrupt", 4), bytes("nmi", 4), u32("sipi_vector"), u32("flags"),
            bytes("smi", 4), bytes("triple_fault", 1), bytes("reserved", 26), u8("exception_has_payload"),
            u64("exception_payload"));
    static final long EVENTS_EXCEPTION_INJECTED = offset(KVM_VCPU_EVENTS, "exception_injected");
    static final long EVENTS_EXCEPTION_NR = offset(KVM_VCPU_EVENTS, "exception_nr");
    static final long EVENTS_EXCEPTION_HAS_ERROR_CODE = offset(KVM_VCPU_EVENTS, "exception_has_error_code");
    static final long EVENTS_EXCEPTION_ERROR_CODE = offset(KVM_VCPU_EVENTS, "exception_error_code");
    static final long EVENTS_FLAGS = offset(KVM_VCPU_EVENTS, "flags");
    /** {@code interrupt.injected}, then {@code .nr}, {@code .soft}, {@code .shadow}: one byte each. */
    static final long EVENTS_INTERRUPT = offset(KVM_VCPU_EVENTS, "interrupt");

    /** kvm_guest_debug: control flags, then kvm_guest_debug_arch, DR0-DR7 (DR4/DR5 unused). */
    static final StructLayout KVM_GUEST_DEBUG = struct("kvm_guest_debug",
            u32("control"), u32("pad"), struct("arch", array("debugreg", 8, ValueLayout.JAVA_LONG)));
    static final long GUEST_DEBUG_CONTROL = offset(KVM_GUEST_DEBUG, "control");
    static final long GUEST_DEBUG_REGS = offset(KVM_GUEST_DEBUG, "arch", "debugreg");

    static final StructLayout KVM_ENABLE_CAP = struct("kvm_enable_cap",
            u32("cap"), u32("flags"), array("args", 4, ValueLayout.JAVA_LONG), bytes("pad", 64));
    static final long ENABLE_CAP_CAP = offset(KVM_ENABLE_CAP, "cap");
    static final long ENABLE_CAP_ARGS = offset(KVM_ENABLE_CAP, "args");
}

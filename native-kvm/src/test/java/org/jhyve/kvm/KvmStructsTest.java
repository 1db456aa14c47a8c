package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.kvm.KvmStructs.*;

import org.junit.jupiter.api.Test;

/**
 * Sizes and offsets of the KVM structs against the kernel's. Expected values were printed with gcc's
 * sizeof/offsetof from Linux UAPI headers {@code <linux/kvm.h>} and {@code <asm/kvm.h>} (x86-64,
 * linux-libc-dev 6.1) on the development machine; they are ABI and do not change between kernels.
 */
class KvmStructsTest {

    @Test
    void kvmRun() {
        assertThat(KVM_RUN.byteSize()).isEqualTo(2352);
        assertThat(RUN_IMMEDIATE_EXIT).isEqualTo(1);
        assertThat(RUN_EXIT_REASON).isEqualTo(8);
        assertThat(offset(KVM_RUN, "cr8")).isEqualTo(16);
        assertThat(offset(KVM_RUN, "apic_base")).isEqualTo(24);
        assertThat(offset(KVM_RUN, "exit")).isEqualTo(32);
        assertThat(RUN_EXIT.byteSize()).isEqualTo(256);
        assertThat(offset(KVM_RUN, "kvm_valid_regs")).isEqualTo(288);
        assertThat(offset(KVM_RUN, "kvm_dirty_regs")).isEqualTo(296);
        assertThat(offset(KVM_RUN, "s")).isEqualTo(304);
    }

    @Test
    void kvmRunExitUnion() {
        assertThat(RUN_IO_DIRECTION).isEqualTo(32);
        assertThat(RUN_IO_SIZE).isEqualTo(33);
        assertThat(RUN_IO_PORT).isEqualTo(34);
        assertThat(RUN_IO_COUNT).isEqualTo(36);
        assertThat(RUN_IO_DATA_OFFSET).isEqualTo(40);
        assertThat(RUN_MMIO_PHYS_ADDR).isEqualTo(32);
        assertThat(RUN_MMIO_DATA).isEqualTo(40);
        assertThat(RUN_MMIO_LEN).isEqualTo(48);
        assertThat(RUN_MMIO_IS_WRITE).isEqualTo(52);
        assertThat(RUN_HW_EXIT_REASON).isEqualTo(32);
        assertThat(RUN_FAIL_ENTRY_REASON).isEqualTo(32);
        assertThat(offset(KVM_RUN, "exit", "fail_entry", "cpu")).isEqualTo(40);
        assertThat(RUN_INTERNAL_SUBERROR).isEqualTo(32);
        assertThat(RUN_INTERNAL_NDATA).isEqualTo(36);
        assertThat(RUN_INTERNAL_DATA).isEqualTo(40);
        assertThat(RUN_EMULATION_FLAGS).isEqualTo(40);
        assertThat(RUN_EMULATION_INSN_SIZE).isEqualTo(48);
        assertThat(RUN_EMULATION_INSN_BYTES).isEqualTo(49);
        assertThat(RUN_SYSTEM_EVENT_TYPE).isEqualTo(32);
        assertThat(offset(KVM_RUN, "exit", "system_event", "ndata")).isEqualTo(36);
        assertThat(RUN_SYSTEM_EVENT_FLAGS).isEqualTo(40);
        assertThat(offset(KVM_RUN, "exit", "system_event", "u", "data")).isEqualTo(40);
        assertThat(RUN_DEBUG_EXCEPTION).isEqualTo(32);
        assertThat(RUN_DEBUG_PC).isEqualTo(40);
        assertThat(RUN_DEBUG_DR6).isEqualTo(48);
        assertThat(RUN_DEBUG_DR7).isEqualTo(56);
    }

    @Test
    void registers() {
        assertThat(KVM_REGS.byteSize()).isEqualTo(144);
        assertThat(offset(KVM_REGS, "r15")).isEqualTo(120);
        assertThat(offset(KVM_REGS, "rip")).isEqualTo(128);
        assertThat(offset(KVM_REGS, "rflags")).isEqualTo(136);
    }

    @Test
    void segmentsAndSpecialRegisters() {
        assertThat(KVM_SEGMENT.byteSize()).isEqualTo(24);
        assertThat(SEG_LIMIT).isEqualTo(8);
        assertThat(SEG_SELECTOR).isEqualTo(12);
        assertThat(SEG_TYPE).isEqualTo(14);
        assertThat(SEG_PRESENT).isEqualTo(15);
        assertThat(SEG_UNUSABLE).isEqualTo(22);
        assertThat(offset(KVM_SEGMENT, "padding")).isEqualTo(23);
        assertThat(KVM_DTABLE.byteSize()).isEqualTo(16);
        assertThat(DTABLE_LIMIT).isEqualTo(8);
        assertThat(KVM_SREGS.byteSize()).isEqualTo(312);
        assertThat(offset(KVM_SREGS, "ds")).isEqualTo(24);
        assertThat(offset(KVM_SREGS, "tr")).isEqualTo(144);
        assertThat(offset(KVM_SREGS, "ldt")).isEqualTo(168);
        assertThat(offset(KVM_SREGS, "gdt")).isEqualTo(192);
        assertThat(offset(KVM_SREGS, "idt")).isEqualTo(208);
        assertThat(offset(KVM_SREGS, "cr0")).isEqualTo(224);
        assertThat(offset(KVM_SREGS, "cr8")).isEqualTo(256);
        assertThat(offset(KVM_SREGS, "efer")).isEqualTo(264);
        assertThat(offset(KVM_SREGS, "apic_base")).isEqualTo(272);
        assertThat(offset(KVM_SREGS, "interrupt_bitmap")).isEqualTo(280);
    }

    @Test
    void fpu() {
        assertThat(KVM_FPU.byteSize()).isEqualTo(416);
        assertThat(offset(KVM_FPU, "fcw")).isEqualTo(128);
        assertThat(offset(KVM_FPU, "fsw")).isEqualTo(130);
        assertThat(offset(KVM_FPU, "ftwx")).isEqualTo(132);
        assertThat(offset(KVM_FPU, "last_opcode")).isEqualTo(134);
        assertThat(offset(KVM_FPU, "last_ip")).isEqualTo(136);
        assertThat(offset(KVM_FPU, "last_dp")).isEqualTo(144);
        assertThat(offset(KVM_FPU, "xmm")).isEqualTo(152);
        assertThat(offset(KVM_FPU, "mxcsr")).isEqualTo(408);
    }

    @Test
    void msrsAndCpuid() {
        assertThat(KVM_MSRS.byteSize()).isEqualTo(8);
        assertThat(KVM_MSR_ENTRY.byteSize()).isEqualTo(16);
        assertThat(MSR_ENTRY_DATA).isEqualTo(8);
        assertThat(KVM_CPUID2.byteSize()).isEqualTo(8);
        assertThat(KVM_CPUID_ENTRY2.byteSize()).isEqualTo(40);
        assertThat(CPUID_FLAGS).isEqualTo(8);
        assertThat(CPUID_EAX).isEqualTo(12);
        assertThat(CPUID_EDX).isEqualTo(24);
        assertThat(offset(KVM_CPUID_ENTRY2, "padding")).isEqualTo(28);
    }

    @Test
    void vmStructs() {
        assertThat(KVM_USERSPACE_MEMORY_REGION.byteSize()).isEqualTo(32);
        assertThat(MEMREG_FLAGS).isEqualTo(4);
        assertThat(MEMREG_GUEST_PHYS_ADDR).isEqualTo(8);
        assertThat(MEMREG_MEMORY_SIZE).isEqualTo(16);
        assertThat(MEMREG_USERSPACE_ADDR).isEqualTo(24);
        assertThat(KVM_IRQ_LEVEL.byteSize()).isEqualTo(8);
        assertThat(IRQ_LEVEL_LEVEL).isEqualTo(4);
        assertThat(KVM_PIT_CONFIG.byteSize()).isEqualTo(64);
        assertThat(KVM_MSI.byteSize()).isEqualTo(32); // gcc: sizeof(struct kvm_msi) 32, data at 8
        assertThat(MSI_DATA).isEqualTo(8);
        assertThat(KVM_IOEVENTFD.byteSize()).isEqualTo(64);
        assertThat(IOEVENTFD_ADDR).isEqualTo(8);
        assertThat(IOEVENTFD_LEN).isEqualTo(16);
        assertThat(IOEVENTFD_FD).isEqualTo(20);
        assertThat(IOEVENTFD_FLAGS).isEqualTo(24);
        assertThat(KVM_IRQFD.byteSize()).isEqualTo(32);
        assertThat(IRQFD_GSI).isEqualTo(4);
        assertThat(IRQFD_FLAGS).isEqualTo(8);
        assertThat(offset(KVM_IRQFD, "resamplefd")).isEqualTo(12);
        assertThat(KVM_TRANSLATION.byteSize()).isEqualTo(24);
        assertThat(TRANSLATION_PHYSICAL).isEqualTo(8);
        assertThat(TRANSLATION_VALID).isEqualTo(16);
        assertThat(offset(KVM_TRANSLATION, "writeable")).isEqualTo(17);
        assertThat(offset(KVM_TRANSLATION, "usermode")).isEqualTo(18);
        assertThat(KVM_MP_STATE.byteSize()).isEqualTo(4);
        // gcc: sizeof(struct kvm_vcpu_events) 64, exception.error_code at 4, flags at 20
        assertThat(KvmStructs.KVM_VCPU_EVENTS.byteSize()).isEqualTo(64);
        assertThat(KvmStructs.EVENTS_EXCEPTION_ERROR_CODE).isEqualTo(4);
        assertThat(KvmStructs.EVENTS_FLAGS).isEqualTo(20);
        // gcc: sizeof(struct kvm_guest_debug) 72, arch.debugreg at 8
        assertThat(KvmStructs.KVM_GUEST_DEBUG.byteSize()).isEqualTo(72);
        assertThat(KvmStructs.GUEST_DEBUG_REGS).isEqualTo(8);
        assertThat(KVM_ENABLE_CAP.byteSize()).isEqualTo(104);
        assertThat(ENABLE_CAP_ARGS).isEqualTo(8);
    }

    /** The userspace interrupt platform's fields and structs, against gcc's offsetof/sizeof on the real headers. */
    @Test
    void userspaceIrqchipFields() {
        assertThat(RUN_REQUEST_INTERRUPT_WINDOW).isEqualTo(0);
        assertThat(RUN_READY_FOR_INTERRUPT_INJECTION).isEqualTo(12);
        assertThat(RUN_IF_FLAG).isEqualTo(13);
        assertThat(RUN_CR8).isEqualTo(16);
        assertThat(RUN_MSR_ERROR).isEqualTo(32);
        assertThat(RUN_MSR_INDEX).isEqualTo(44);
        assertThat(RUN_MSR_DATA).isEqualTo(48);
        assertThat(KVM_MSR_FILTER.byteSize()).isEqualTo(392);
        assertThat(KVM_MSR_FILTER_RANGE.byteSize()).isEqualTo(24);
        assertThat(MSR_FILTER_RANGES).isEqualTo(8);
        assertThat(MSR_RANGE_NMSRS).isEqualTo(4);
        assertThat(MSR_RANGE_BASE).isEqualTo(8);
        assertThat(MSR_RANGE_BITMAP).isEqualTo(16);
    }
}

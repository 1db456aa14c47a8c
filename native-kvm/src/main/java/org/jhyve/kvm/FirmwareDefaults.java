package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jhyve.hv.HypervisorException;
import org.jhyve.hv.MsrEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a PC's firmware leaves in each processor before an OS boots, and KVM does not: the local APIC's
 * LINT0 in ExtINT mode (the 8259 PIC's output reaches the CPU: "virtual wire" mode) and LINT1 as NMI, the
 * MP specification's setup; fast string operations enabled in IA32_MISC_ENABLE; and the MTRRs enabled
 * with write-back as the default memory type (otherwise Linux finds MTRRs off and skips PAT as well).
 */
final class FirmwareDefaults {
    private static final Logger log = LoggerFactory.getLogger(FirmwareDefaults.class);

    static final int APIC_LVT_LINT0 = 0x350, APIC_LVT_LINT1 = 0x360;
    static final int DELIVERY_EXTINT = 0x7 << 8, DELIVERY_NMI = 0x4 << 8;
    /** Local vector table entries: delivery mode bits 10:8, the mask bit 16 and the vector bits 7:0. */
    private static final int LVT_MODE_MASK = 0x7 << 8 | 0xff | 1 << 16;

    static final int MSR_IA32_MISC_ENABLE = 0x1a0, MSR_MTRR_DEF_TYPE = 0x2ff;
    static final long MISC_ENABLE_FAST_STRING = 1, MTRR_ENABLE = 1 << 11, MTRR_TYPE_WRITE_BACK = 6;

    private FirmwareDefaults() {}

    /** {@code inKernelApic}: false without KVM's irqchip, where jhyve's userspace platform sets its own LVTs likewise. */
    static void apply(KvmVcpu vcpu, int fd, boolean inKernelApic) {
        if (inKernelApic) applyLvts(fd);
        applyMsrs(vcpu);
    }

    private static void applyLvts(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment lapic = a.allocate(KvmAbi.LAPIC_STATE_SIZE);
            HostCalls.ioctl(fd, KvmAbi.GET_LAPIC, lapic);
            setLvt(lapic, APIC_LVT_LINT0, DELIVERY_EXTINT);
            setLvt(lapic, APIC_LVT_LINT1, DELIVERY_NMI);
            HostCalls.ioctl(fd, KvmAbi.SET_LAPIC, lapic);
        }
    }

    private static void applyMsrs(KvmVcpu vcpu) {
        // One at a time: a host that lacks one of them (PVM may) should still get the others.
        for (MsrEntry msr : List.of(new MsrEntry(MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING),
                new MsrEntry(MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRITE_BACK))) {
            try {
                vcpu.setMsrs(List.of(msr));
            } catch (HypervisorException e) {
                log.debug("vCPU {}: {}", vcpu.index(), e.getMessage());
            }
        }
    }

    private static void setLvt(MemorySegment lapic, int register, int mode) {
        int old = lapic.get(JAVA_INT, register);
        lapic.set(JAVA_INT, register, (old & ~LVT_MODE_MASK) | mode);
    }

    /** LINT0 and LINT1 as {@link #apply} leaves them, for tests: reads the vCPU's LAPIC page. */
    static int[] lints(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment lapic = a.allocate(KvmAbi.LAPIC_STATE_SIZE);
            HostCalls.ioctl(fd, KvmAbi.GET_LAPIC, lapic);
            return new int[] {lapic.get(JAVA_INT, APIC_LVT_LINT0), lapic.get(JAVA_INT, APIC_LVT_LINT1)};
        }
    }
}

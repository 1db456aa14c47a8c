package org.jhyve.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.x86.Hex.bytes;

import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.memory.SegmentGuestMemory;
import org.jhyve.x86.InstructionFallback.Result.Completed;
import org.jhyve.x86.RecordingVcpu.InjectedException;
import org.junit.jupiter.api.Test;

/** INT n completed for a hypervisor that refused it: the checks INT n makes, then delivery through the IDT. */
class SoftwareInterruptTest {
    private static final long RAM = 16L << 20;
    private static final long CODE = 0x10_0000;
    private static final long IDT = 0x30_0000;
    private static final int VECTOR = 0x21;

    private final SegmentGuestMemory memory = SegmentGuestMemory.onHeap(RAM);
    private final InstructionFallback fallback = new InstructionFallback();

    /** A 64-bit vCPU at CPL {@code cpl} stopped on int 0x21, with a 256-gate IDT whose gate 0x21 has {@code access}. */
    private RecordingVcpu at(int cpl, int access) {
        memory.write(CODE, bytes("cd 21"));
        memory.writeByte(IDT + VECTOR * 16L + 5, (byte) access);
        SpecialRegisters s = CpuStates.longMode();
        Segment cs = s.cs();
        Segment userCs = new Segment(cs.base(), cs.limit(), cs.selector() | cpl, cs.type(), cs.present(), cpl, cs.db(), cs.s(), cs.l(),
                cs.g(), cs.avl(), cs.unusable());
        SpecialRegisters withIdt = new SpecialRegisters(userCs, s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(),
                new DescriptorTable(IDT, 256 * 16 - 1), s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase());
        return new RecordingVcpu(Registers.initial(CODE), withIdt, RAM);
    }

    private static final int PRESENT_INTERRUPT_GATE_DPL0 = 0x8e, PRESENT_DPL3 = 0xee, NOT_PRESENT = 0x0e;

    @Test
    void aPermittedGateIsDeliveredWithTheNextInstructionAsTheReturnAddress() {
        RecordingVcpu vcpu = at(0, PRESENT_INTERRUPT_GATE_DPL0);
        assertThat(fallback.complete(vcpu, memory, new byte[0])).isEqualTo(new Completed("int 0x21"));
        assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE + 2);
        assertThat(vcpu.softwareInterrupts()).containsExactly(VECTOR);
        assertThat(vcpu.pendingExceptions()).isEmpty();
    }

    @Test
    void userCodeReachesOnlyGatesOfDplThree() {
        RecordingVcpu denied = at(3, PRESENT_INTERRUPT_GATE_DPL0);
        fallback.complete(denied, memory, new byte[0]);
        assertThat(denied.getRegisters().rip()).as("a fault: RIP stays on the INT").isEqualTo(CODE);
        assertThat(denied.pendingExceptions()).containsExactly(new InjectedException(13, VECTOR * 8 + 2));
        assertThat(denied.softwareInterrupts()).isEmpty();

        RecordingVcpu allowed = at(3, PRESENT_DPL3);
        fallback.complete(allowed, memory, new byte[0]);
        assertThat(allowed.softwareInterrupts()).containsExactly(VECTOR);
    }

    @Test
    void aGateNotPresentIsNpWithoutTheExternalBit() {
        RecordingVcpu vcpu = at(0, NOT_PRESENT);
        fallback.complete(vcpu, memory, new byte[0]);
        assertThat(vcpu.pendingExceptions()).containsExactly(new InjectedException(11, VECTOR * 8 + 2));
        assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE);
    }

    @Test
    void aGateBeyondTheIdtLimitIsGp() {
        memory.write(CODE, bytes("cd 21"));
        SpecialRegisters s = CpuStates.longMode();
        SpecialRegisters shortIdt = new SpecialRegisters(s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(),
                new DescriptorTable(IDT, VECTOR * 16 - 1), s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase());
        RecordingVcpu vcpu = new RecordingVcpu(Registers.initial(CODE), shortIdt, RAM);
        fallback.complete(vcpu, memory, new byte[0]);
        assertThat(vcpu.pendingExceptions()).containsExactly(new InjectedException(13, VECTOR * 8 + 2));
    }

    @Test
    void realModeHasNoPrivilegesToCheck() {
        memory.write(0x1000, bytes("cd 10"));
        RecordingVcpu vcpu = new RecordingVcpu(Registers.initial(0x1000), CpuStates.realMode(0, 0, 0), RAM);
        assertThat(fallback.complete(vcpu, memory, new byte[0])).isEqualTo(new Completed("int 0x10"));
        assertThat(vcpu.getRegisters().rip()).isEqualTo(0x1002);
        assertThat(vcpu.softwareInterrupts()).containsExactly(0x10);
    }
}

package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.kvm.KvmStructs.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jhyve.hv.VmExit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Decoding hand-filled kvm_run areas: no /dev/kvm needed. */
class ExitDecoderTest {
    private static final int PAGE = 4096;
    private Arena arena;
    private MemorySegment run;

    @BeforeEach
    void setUp() {
        arena = Arena.ofConfined();
        run = arena.allocate(3 * PAGE, PAGE);
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private void reason(int r) {
        run.set(JAVA_INT, RUN_EXIT_REASON, r);
    }

    @Test
    void portIoOutSlicesTheDataPage() {
        reason(KvmAbi.EXIT_IO);
        run.set(JAVA_BYTE, RUN_IO_DIRECTION, (byte) KvmAbi.EXIT_IO_OUT);
        run.set(JAVA_BYTE, RUN_IO_SIZE, (byte) 2);
        run.set(JAVA_SHORT, RUN_IO_PORT, (short) 0xcf8);
        run.set(JAVA_INT, RUN_IO_COUNT, 3);
        run.set(JAVA_LONG, RUN_IO_DATA_OFFSET, PAGE);
        run.set(JAVA_BYTE, PAGE, (byte) 0x11);

        VmExit.PortIo io = (VmExit.PortIo) ExitDecoder.decode(run);

        assertThat(io.port()).isEqualTo(0xcf8);
        assertThat(io.size()).isEqualTo(2);
        assertThat(io.count()).isEqualTo(3);
        assertThat(io.write()).isTrue();
        assertThat(io.data().byteSize()).isEqualTo(6);
        assertThat(io.data().address()).isEqualTo(run.address() + PAGE);
        assertThat(io.data().get(JAVA_BYTE, 0)).isEqualTo((byte) 0x11);
    }

    @Test
    void portIoHighPortIsUnsigned() {
        reason(KvmAbi.EXIT_IO);
        run.set(JAVA_BYTE, RUN_IO_DIRECTION, (byte) KvmAbi.EXIT_IO_IN);
        run.set(JAVA_BYTE, RUN_IO_SIZE, (byte) 1);
        run.set(JAVA_SHORT, RUN_IO_PORT, (short) 0xfff0);
        run.set(JAVA_INT, RUN_IO_COUNT, 1);
        run.set(JAVA_LONG, RUN_IO_DATA_OFFSET, PAGE);

        VmExit.PortIo io = (VmExit.PortIo) ExitDecoder.decode(run);

        assertThat(io.port()).isEqualTo(0xfff0);
        assertThat(io.write()).isFalse();
    }

    @Test
    void portIoDataOutsideTheAreaIsRejected() {
        reason(KvmAbi.EXIT_IO);
        run.set(JAVA_BYTE, RUN_IO_SIZE, (byte) 4);
        run.set(JAVA_INT, RUN_IO_COUNT, 1);
        run.set(JAVA_LONG, RUN_IO_DATA_OFFSET, 3 * PAGE - 2);
        assertThatThrownBy(() -> ExitDecoder.decode(run)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void mmio() {
        reason(KvmAbi.EXIT_MMIO);
        run.set(JAVA_LONG, RUN_MMIO_PHYS_ADDR, 0xd000_0000L);
        run.set(JAVA_INT, RUN_MMIO_LEN, 4);
        run.set(JAVA_BYTE, RUN_MMIO_IS_WRITE, (byte) 1);
        run.set(JAVA_INT, RUN_MMIO_DATA, 0x12345678);

        VmExit.Mmio m = (VmExit.Mmio) ExitDecoder.decode(run);

        assertThat(m.address()).isEqualTo(0xd000_0000L);
        assertThat(m.length()).isEqualTo(4);
        assertThat(m.write()).isTrue();
        assertThat(m.data().get(JAVA_INT, 0)).isEqualTo(0x12345678);
    }

    @Test
    void simpleExits() {
        reason(KvmAbi.EXIT_HLT);
        assertThat(ExitDecoder.decode(run)).isInstanceOf(VmExit.Halt.class);
        reason(KvmAbi.EXIT_SHUTDOWN);
        assertThat(ExitDecoder.decode(run)).isInstanceOf(VmExit.Shutdown.class);
        reason(KvmAbi.EXIT_INTR);
        assertThat(ExitDecoder.decode(run)).isInstanceOf(VmExit.Interrupted.class);
    }

    @Test
    void systemEvents() {
        reason(KvmAbi.EXIT_SYSTEM_EVENT);
        run.set(JAVA_LONG, RUN_SYSTEM_EVENT_FLAGS, 7L);
        int[] types = {1, 2, 3, 5};
        VmExit.SystemEvent.Kind[] kinds = {VmExit.SystemEvent.Kind.SHUTDOWN, VmExit.SystemEvent.Kind.RESET,
            VmExit.SystemEvent.Kind.CRASH, VmExit.SystemEvent.Kind.OTHER};
        for (int i = 0; i < types.length; i++) {
            run.set(JAVA_INT, RUN_SYSTEM_EVENT_TYPE, types[i]);
            assertThat(ExitDecoder.decode(run)).isEqualTo(new VmExit.SystemEvent(kinds[i], 7L));
        }
    }

    @Test
    void emulationFailureWithInstructionBytes() {
        reason(KvmAbi.EXIT_INTERNAL_ERROR);
        run.set(JAVA_INT, RUN_INTERNAL_SUBERROR, KvmAbi.INTERNAL_ERROR_EMULATION);
        run.set(JAVA_INT, RUN_INTERNAL_NDATA, 4);
        run.set(JAVA_LONG, RUN_EMULATION_FLAGS, KvmAbi.INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES);
        run.set(JAVA_BYTE, RUN_EMULATION_INSN_SIZE, (byte) 3);
        run.set(JAVA_BYTE, RUN_EMULATION_INSN_BYTES, (byte) 0x0f);
        run.set(JAVA_BYTE, RUN_EMULATION_INSN_BYTES + 1, (byte) 0xae);
        run.set(JAVA_BYTE, RUN_EMULATION_INSN_BYTES + 2, (byte) 0x2f);

        VmExit.InternalError e = (VmExit.InternalError) ExitDecoder.decode(run);

        assertThat(e.isEmulationFailure()).isTrue();
        assertThat(e.data()).hasSize(4);
        assertThat(e.data()[0]).isEqualTo(1L);
        assertThat(e.instructionBytes()).containsExactly(0x0f, 0xae, 0x2f);
    }

    @Test
    void emulationFailureWithoutBytes() {
        reason(KvmAbi.EXIT_INTERNAL_ERROR);
        run.set(JAVA_INT, RUN_INTERNAL_SUBERROR, KvmAbi.INTERNAL_ERROR_EMULATION);
        run.set(JAVA_INT, RUN_INTERNAL_NDATA, 0);

        VmExit.InternalError e = (VmExit.InternalError) ExitDecoder.decode(run);

        assertThat(e.data()).isEmpty();
        assertThat(e.instructionBytes()).isEmpty();
    }

    @Test
    void otherInternalErrorKeepsAtMostSixteenWords() {
        reason(KvmAbi.EXIT_INTERNAL_ERROR);
        run.set(JAVA_INT, RUN_INTERNAL_SUBERROR, 3);
        run.set(JAVA_INT, RUN_INTERNAL_NDATA, 99);
        run.set(JAVA_LONG, RUN_INTERNAL_DATA + 8, 0xabcL);

        VmExit.InternalError e = (VmExit.InternalError) ExitDecoder.decode(run);

        assertThat(e.suberror()).isEqualTo(3);
        assertThat(e.data()).hasSize(16);
        assertThat(e.data()[1]).isEqualTo(0xabcL);
        assertThat(e.instructionBytes()).isEmpty();
    }

    @Test
    void failEntryDebugAndUnknown() {
        reason(KvmAbi.EXIT_FAIL_ENTRY);
        run.set(JAVA_LONG, RUN_FAIL_ENTRY_REASON, 0x80000021L);
        assertThat(ExitDecoder.decode(run)).isEqualTo(new VmExit.FailEntry(0x80000021L));

        reason(KvmAbi.EXIT_DEBUG);
        run.set(JAVA_INT, RUN_DEBUG_EXCEPTION, 1);
        run.set(JAVA_LONG, RUN_DEBUG_PC, 0x1234L);
        run.set(JAVA_LONG, RUN_DEBUG_DR6, 0xffff0ff0L);
        run.set(JAVA_LONG, RUN_DEBUG_DR7, 0x400L);
        assertThat(ExitDecoder.decode(run)).isEqualTo(new VmExit.Debug(0x1234L, 1, 0xffff0ff0L, 0x400L));

        reason(KvmAbi.EXIT_IRQ_WINDOW_OPEN);
        assertThat(ExitDecoder.decode(run)).isInstanceOf(VmExit.InterruptWindow.class);
        reason(KvmAbi.EXIT_HYPERCALL);
        assertThat(ExitDecoder.decode(run)).isEqualTo(new VmExit.Unknown(3, "KVM_EXIT_HYPERCALL"));
        // An MSR exit on a VM that asked for none (no userspace irqchip) is nothing jhyve can answer.
        reason(KvmAbi.EXIT_X86_RDMSR);
        assertThat(ExitDecoder.decode(run)).isInstanceOf(VmExit.Unknown.class);

        reason(KvmAbi.EXIT_UNKNOWN);
        run.set(JAVA_LONG, RUN_HW_EXIT_REASON, 0x30L);
        assertThat(((VmExit.Unknown) ExitDecoder.decode(run)).description()).contains("KVM_EXIT_UNKNOWN", "0x30");
    }

    @Test
    void msrExitsCarryTheIndexDataAndAReplyThatWritesTheRunArea() {
        reason(KvmAbi.EXIT_X86_WRMSR);
        run.set(JAVA_INT, RUN_MSR_INDEX, 0x830);
        run.set(JAVA_LONG, RUN_MSR_DATA, 0x1_0000_00fdL);
        VmExit.MsrReply reply = new VmExit.MsrReply() {
            @Override public void complete(long value) { run.set(JAVA_LONG, RUN_MSR_DATA, value); }
            @Override public void fault() { run.set(JAVA_BYTE, RUN_MSR_ERROR, (byte) 1); }
        };
        assertThat(ExitDecoder.decode(run, reply)).isEqualTo(new VmExit.Msr(0x830, true, 0x1_0000_00fdL, reply));
        reason(KvmAbi.EXIT_X86_RDMSR);
        assertThat(ExitDecoder.decode(run, reply)).isInstanceOfSatisfying(VmExit.Msr.class, m -> assertThat(m.write()).isFalse());
    }
}

package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.jhyve.kvm.KvmStructs.*;

import java.lang.foreign.MemorySegment;
import org.jhyve.hv.VmExit;

/**
 * Decodes a {@code kvm_run} area after a successful {@code KVM_RUN} into a {@link VmExit}. A pure function
 * of the segment, so tests can feed it hand-filled areas. Data segments of I/O exits are slices of the
 * area itself: writing into an IN's slice is how its result reaches the guest on the next {@code KVM_RUN}.
 */
final class ExitDecoder {
    private ExitDecoder() {}

    private static final VmExit.Interrupted INTERRUPTED = new VmExit.Interrupted();
    private static final VmExit.Halt HALT = new VmExit.Halt();
    private static final VmExit.Shutdown SHUTDOWN = new VmExit.Shutdown();
    private static final int MMIO_DATA_MAX = 8;

    static VmExit.Interrupted interrupted() {
        return INTERRUPTED;
    }

    private static final VmExit.InterruptWindow INTERRUPT_WINDOW = new VmExit.InterruptWindow();

    /** As {@link #decode(MemorySegment, VmExit.MsrReply)} for a VM that never exits on MSRs. */
    static VmExit decode(MemorySegment run) {
        return decode(run, null);
    }

    /** {@code msrReply} answers MSR exits (the userspace interrupt platform's); it writes the same area. */
    static VmExit decode(MemorySegment run, VmExit.MsrReply msrReply) {
        int reason = run.get(JAVA_INT, RUN_EXIT_REASON);
        return switch (reason) {
            case KvmAbi.EXIT_IRQ_WINDOW_OPEN -> INTERRUPT_WINDOW;
            case KvmAbi.EXIT_X86_RDMSR, KvmAbi.EXIT_X86_WRMSR -> msrReply == null
                    ? new VmExit.Unknown(reason, KvmAbi.exitName(reason) + " on a VM that routes no MSRs to userspace")
                    : new VmExit.Msr(run.get(JAVA_INT, RUN_MSR_INDEX), reason == KvmAbi.EXIT_X86_WRMSR,
                            run.get(JAVA_LONG, RUN_MSR_DATA), msrReply);
            case KvmAbi.EXIT_IO -> portIo(run);
            case KvmAbi.EXIT_MMIO -> mmio(run);
            case KvmAbi.EXIT_HLT -> HALT;
            case KvmAbi.EXIT_SHUTDOWN -> SHUTDOWN;
            case KvmAbi.EXIT_INTR -> INTERRUPTED;
            case KvmAbi.EXIT_SYSTEM_EVENT -> systemEvent(run);
            case KvmAbi.EXIT_INTERNAL_ERROR -> internalError(run);
            case KvmAbi.EXIT_FAIL_ENTRY -> new VmExit.FailEntry(run.get(JAVA_LONG, RUN_FAIL_ENTRY_REASON));
            case KvmAbi.EXIT_DEBUG -> new VmExit.Debug(run.get(JAVA_LONG, RUN_DEBUG_PC),
                    run.get(JAVA_INT, RUN_DEBUG_EXCEPTION), run.get(JAVA_LONG, RUN_DEBUG_DR6), run.get(JAVA_LONG, RUN_DEBUG_DR7));
            case KvmAbi.EXIT_UNKNOWN -> new VmExit.Unknown(reason, String.format("%s (hardware exit reason 0x%x)",
                    KvmAbi.exitName(reason), run.get(JAVA_LONG, RUN_HW_EXIT_REASON)));
            case KvmAbi.EXIT_EXCEPTION -> new VmExit.Unknown(reason, String.format("%s (vector %d, error code 0x%x)",
                    KvmAbi.exitName(reason), run.get(JAVA_INT, RUN_EX_EXCEPTION), run.get(JAVA_INT, RUN_EX_ERROR_CODE)));
            default -> new VmExit.Unknown(reason, KvmAbi.exitName(reason));
        };
    }

    private static VmExit.PortIo portIo(MemorySegment run) {
        int size = Byte.toUnsignedInt(run.get(JAVA_BYTE, RUN_IO_SIZE));
        int port = Short.toUnsignedInt(run.get(JAVA_SHORT, RUN_IO_PORT));
        int count = run.get(JAVA_INT, RUN_IO_COUNT);
        boolean write = run.get(JAVA_BYTE, RUN_IO_DIRECTION) == KvmAbi.EXIT_IO_OUT;
        long dataOffset = run.get(JAVA_LONG, RUN_IO_DATA_OFFSET);
        // asSlice bounds-checks against the mapping: a bogus offset fails here, not as a stray write later.
        MemorySegment data = run.asSlice(dataOffset, (long) size * Integer.toUnsignedLong(count));
        return new VmExit.PortIo(port, size, count, write, data);
    }

    private static VmExit.Mmio mmio(MemorySegment run) {
        long address = run.get(JAVA_LONG, RUN_MMIO_PHYS_ADDR);
        int length = run.get(JAVA_INT, RUN_MMIO_LEN);
        if (length < 0 || length > MMIO_DATA_MAX) throw new IllegalStateException("KVM reported an MMIO length of " + length);
        boolean write = run.get(JAVA_BYTE, RUN_MMIO_IS_WRITE) != 0;
        return new VmExit.Mmio(address, length, write, run.asSlice(RUN_MMIO_DATA, length));
    }

    private static VmExit.SystemEvent systemEvent(MemorySegment run) {
        VmExit.SystemEvent.Kind kind = switch (run.get(JAVA_INT, RUN_SYSTEM_EVENT_TYPE)) {
            case KvmAbi.SYSTEM_EVENT_SHUTDOWN -> VmExit.SystemEvent.Kind.SHUTDOWN;
            case KvmAbi.SYSTEM_EVENT_RESET -> VmExit.SystemEvent.Kind.RESET;
            case KvmAbi.SYSTEM_EVENT_CRASH -> VmExit.SystemEvent.Kind.CRASH;
            default -> VmExit.SystemEvent.Kind.OTHER;
        };
        return new VmExit.SystemEvent(kind, run.get(JAVA_LONG, RUN_SYSTEM_EVENT_FLAGS));
    }

    private static VmExit.InternalError internalError(MemorySegment run) {
        int suberror = run.get(JAVA_INT, RUN_INTERNAL_SUBERROR);
        int ndata = Math.clamp(Integer.toUnsignedLong(run.get(JAVA_INT, RUN_INTERNAL_NDATA)), 0, RUN_INTERNAL_DATA_MAX);
        long[] data = new long[ndata];
        for (int i = 0; i < ndata; i++) data[i] = run.get(JAVA_LONG, RUN_INTERNAL_DATA + i * 8L);
        byte[] insn = new byte[0];
        // The emulation_failure overlay is valid only when KVM says so in its flags word (data[0]),
        // which it does when KVM_CAP_EXIT_ON_EMULATION_FAILURE is enabled.
        if (suberror == KvmAbi.INTERNAL_ERROR_EMULATION && ndata >= 1
                && (run.get(JAVA_LONG, RUN_EMULATION_FLAGS) & KvmAbi.INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) != 0) {
            int size = Math.min(Byte.toUnsignedInt(run.get(JAVA_BYTE, RUN_EMULATION_INSN_SIZE)), RUN_EMULATION_INSN_MAX);
            insn = new byte[size];
            MemorySegment.copy(run, JAVA_BYTE, RUN_EMULATION_INSN_BYTES, insn, 0, size);
        }
        return new VmExit.InternalError(suberror, data, insn);
    }
}

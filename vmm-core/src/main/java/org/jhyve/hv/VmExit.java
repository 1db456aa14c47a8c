package org.jhyve.hv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Why {@link Vcpu#run()} returned: the hypervisor's exit, decoded into data. Handling is a plain switch
 * over these records, testable without a hypervisor.
 *
 * <p>{@code data} segments point into the vCPU's shared run area (or a test's heap segment): they are
 * valid only until the next {@code run()}, and for reads ({@code write == false}) the handler fills them.
 */
public sealed interface VmExit {

    /** An {@code in}/{@code out} (or {@code rep ins}/{@code outs}): {@code count} items of {@code size} bytes. */
    record PortIo(int port, int size, int count, boolean write, MemorySegment data) implements VmExit {
        /** Item {@code item}'s value (an OUT's): its {@code size} bytes, little-endian. */
        public long value(int item) {
            return load(data, (long) item * size, size);
        }

        /** Answers item {@code item} of an IN with the low {@code size} bytes of {@code value}. */
        public void complete(int item, long value) {
            store(data, (long) item * size, size, value);
        }
    }

    /** An access to guest-physical {@code address} that is not RAM. */
    record Mmio(long address, int length, boolean write, MemorySegment data) implements VmExit {
        /** A write's value: its {@code length} bytes, little-endian. */
        public long value() {
            return load(data, 0, length);
        }

        /** Answers a read with the low {@code length} bytes of {@code value}. */
        public void complete(long value) {
            store(data, 0, length, value);
        }
    }

    /** The guest executed HLT and the hypervisor handed it to us (no in-kernel irqchip). */
    record Halt() implements VmExit {}

    /**
     * The guest can take an interrupt now: the exit {@link InterruptInjection#requestInterruptWindow} asked for
     * ({@link InterruptPlatform#USERSPACE} only).
     */
    record InterruptWindow() implements VmExit {}

    /**
     * RDMSR or WRMSR of an MSR the hypervisor leaves to the VMM ({@link InterruptPlatform#USERSPACE}: the local APIC's
     * x2APIC registers, IA32_APIC_BASE, IA32_TSC_DEADLINE; and any the hypervisor itself would refuse). The handler
     * answers through {@code reply} before the next run: a value for a read, or a #GP.
     */
    record Msr(int index, boolean write, long value, MsrReply reply) implements VmExit {}

    /** How an {@link Msr} exit is answered; valid until the next run. */
    interface MsrReply {
        /** A read returns {@code value}; for a write, the write is done. */
        void complete(long value);

        /** The instruction raises #GP instead. */
        void fault();
    }

    /** Triple fault: the CPU shut down. */
    record Shutdown() implements VmExit {}

    /** The hypervisor reports a platform event (KVM_EXIT_SYSTEM_EVENT). */
    record SystemEvent(Kind kind, long flags) implements VmExit {
        public enum Kind { SHUTDOWN, RESET, CRASH, OTHER }
    }

    /**
     * The hypervisor could not go on (KVM_EXIT_INTERNAL_ERROR). For an emulation failure,
     * {@code instructionBytes} holds the bytes at RIP when the hypervisor provided them (else empty).
     */
    record InternalError(int suberror, long[] data, byte[] instructionBytes) implements VmExit {
        /** KVM_INTERNAL_ERROR_EMULATION: the in-kernel instruction emulator gave up. */
        public static final int EMULATION = 1;

        public boolean isEmulationFailure() { return suberror == EMULATION; }
    }

    /** VM entry failed; {@code reason} is the hardware's code. */
    record FailEntry(long reason) implements VmExit {}

    /** A guest-debug event (single-step or breakpoint); {@code rip} is where it stopped. */
    record Debug(long rip, int exception, long dr6, long dr7) implements VmExit {}

    /** The run was cut short (signal or {@link Vcpu#kick()}): nothing to handle, check for stop or pause. */
    record Interrupted() implements VmExit {}

    /** Anything else; {@code reason} is the hypervisor's raw exit code. */
    record Unknown(int reason, String description) implements VmExit {}

    private static long load(MemorySegment data, long offset, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) v = v << 8 | (data.get(ValueLayout.JAVA_BYTE, offset + i) & 0xff);
        return v;
    }

    private static void store(MemorySegment data, long offset, int size, long value) {
        for (int i = 0; i < size; i++) data.set(ValueLayout.JAVA_BYTE, offset + i, (byte) (value >>> (8 * i)));
    }
}

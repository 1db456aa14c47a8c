package org.jhyve.hv;

import java.util.List;

/**
 * What a debugger asks the hypervisor to catch on one vCPU (KVM_SET_GUEST_DEBUG): a single step, the
 * guest's {@code int3} instructions, and up to four hardware breakpoints or watchpoints in the debug
 * registers. {@link #OFF} gives the guest its debug facilities back.
 */
public record GuestDebug(boolean singleStep, boolean softwareBreakpoints, List<HardwareBreakpoint> hardware) {
    /** x86 has four address debug registers, DR0-DR3. */
    public static final int HARDWARE_SLOTS = 4;

    public static final GuestDebug OFF = new GuestDebug(false, false, List.of());

    public GuestDebug {
        hardware = List.copyOf(hardware);
        if (hardware.size() > HARDWARE_SLOTS) throw new IllegalArgumentException("x86 has " + HARDWARE_SLOTS + " debug address registers");
    }

    /** True when the hypervisor should intercept anything at all. */
    public boolean enabled() {
        return singleStep || softwareBreakpoints || !hardware.isEmpty();
    }

    public GuestDebug withSingleStep(boolean step) {
        return new GuestDebug(step, softwareBreakpoints, hardware);
    }

    /**
     * DR7 for {@link #hardware}: slot i gets its global-enable bit (G<i>i</i>) and its R/W and LEN fields. Bits 9
     * (GE, exact data breakpoints) and 10 (reads as one) are set as debuggers conventionally do.
     */
    public long debugControl() {
        long dr7 = 0x600;
        for (int i = 0; i < hardware.size(); i++) {
            HardwareBreakpoint bp = hardware.get(i);
            dr7 |= 2L << (i * 2);
            dr7 |= (long) bp.kind().rwBits << (16 + i * 4);
            dr7 |= (long) lengthBits(bp.length()) << (18 + i * 4);
        }
        return dr7;
    }

    /** DR7's LEN encoding: 1 byte 00, 2 bytes 01, 8 bytes 10, 4 bytes 11. */
    private static int lengthBits(int length) {
        return switch (length) {
            case 1 -> 0;
            case 2 -> 1;
            case 8 -> 2;
            case 4 -> 3;
            default -> throw new IllegalArgumentException("a debug register covers 1, 2, 4 or 8 bytes: " + length);
        };
    }

    /** One debug-register breakpoint: an instruction address, or a data range the guest writes or accesses. */
    public record HardwareBreakpoint(long address, Kind kind, int length) {
        public HardwareBreakpoint {
            // An execution breakpoint must say length 1 (LEN = 00); a data one must be aligned to its length.
            if (kind == Kind.EXECUTE && length != 1) throw new IllegalArgumentException("an execution breakpoint has length 1");
            lengthBits(length);
            if ((address & (length - 1)) != 0) {
                throw new IllegalArgumentException(String.format("a %d-byte watchpoint must be aligned: 0x%x", length, address));
            }
        }

        /** DR7's R/W field: 00 execute, 01 data write, 11 data read or write (x86 has no read-only kind). */
        public enum Kind {
            EXECUTE(0), WRITE(1), ACCESS(3);

            final int rwBits;

            Kind(int rwBits) {
                this.rwBits = rwBits;
            }
        }
    }
}

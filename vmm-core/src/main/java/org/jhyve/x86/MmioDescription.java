package org.jhyve.x86;

import java.util.OptionalLong;

/**
 * The access an instruction makes to the MMIO address it faulted on, as {@link MmioInstructionEmulator#describe}
 * works it out without touching the bus: what a hypervisor that emulates the instruction itself (KVM) reports
 * in its MMIO exit, for comparing the two.
 */
public sealed interface MmioDescription {
    /** How the instruction uses the address. */
    enum Direction {
        READ,
        WRITE,
        /** A read, then a write of a value computed from what was read (ADD/OR/AND... to memory). */
        READ_MODIFY_WRITE
    }

    /**
     * The first access at the faulting address.
     *
     * @param gpa       the guest-physical address accessed
     * @param size      1, 2, 4 or 8 bytes
     * @param direction read, write or both
     * @param value     for {@link Direction#WRITE}, the value written (low {@code size} bytes); empty otherwise,
     *                  since what a read-modify-write writes depends on what the device returns
     */
    record Access(long gpa, int size, Direction direction, OptionalLong value) implements MmioDescription {}

    /** The instruction would not reach MMIO (a fault, REP with a zero count, an unsupported instruction). */
    record NoAccess(String why) implements MmioDescription {}
}

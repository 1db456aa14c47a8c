package org.jhyve.x86;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.memory.GuestMemory;

/**
 * The memory operands of one emulated MMIO instruction: the one at the faulting guest-physical address, which
 * always goes to the bus, and those reached through the guest's paging (the stack of PUSH/POP, both sides of
 * MOVS, the destination of STOS), which go to RAM when they map to RAM and to the bus when they do not.
 *
 * <p>Checks a CPU makes before the access are made here: canonical addresses in 64-bit mode (#GP(0), or #SS(0)
 * through SS) and present pages (#PF). The paging interface reports only "mapped or not", so a write to a
 * read-only page is not refused. Segment limits are not checked.
 *
 * <p>In a dry run nothing is written and the bus is not called: bus reads return 0 and every access the
 * instruction would make to the bus is only recorded. One per emulation, confined to the thread that runs it.
 */
final class OperandMemory {
    /** One access to the bus, in program order. */
    record BusAccess(long gpa, int size, boolean write, long value) {}

    private static final int PAGE_SIZE = 4096;
    private static final int PF_WRITE = 1 << 1;
    private static final int PF_USER = 1 << 2;

    /** Where an access lands: the bus at {@code first}, or RAM at {@code first} (and {@code second} past a page end). */
    private record Location(boolean device, long first, int firstLength, long second) {}

    private final CpuMode mode;
    private final SpecialRegisters sregs;
    private final LinearTranslator paging;
    private final GuestMemory ram;
    private final MmioBus bus;
    private final long faultingGpa;
    private final boolean dryRun;
    private final List<BusAccess> busAccesses = new ArrayList<>(2);

    OperandMemory(CpuMode mode, SpecialRegisters sregs, LinearTranslator paging, GuestMemory ram, MmioBus bus,
                  long faultingGpa, boolean dryRun) {
        this.mode = mode;
        this.sregs = sregs;
        this.paging = paging;
        this.ram = ram;
        this.bus = bus;
        this.faultingGpa = faultingGpa;
        this.dryRun = dryRun;
    }

    List<BusAccess> busAccesses() { return List.copyOf(busAccesses); }

    /** Reads the operand at the faulting address. */
    long readFaulting(int size) {
        return busRead(faultingGpa, size);
    }

    /** Writes the operand at the faulting address. */
    void writeFaulting(int size, long value) {
        busWrite(faultingGpa, size, value);
    }

    /** The linear address of {@code segment:offset}, the offset already wrapped to the address size. */
    long linear(SegmentRegister segment, long offset) {
        return mode.maskLinearAddress(EffectiveAddress.segmentBase(mode, segment, sregs) + offset);
    }

    long read(SegmentRegister segment, long linear, int size) throws GuestExceptionSignal, UnsupportedMmioSignal {
        Location at = locate(segment, linear, size, false);
        if (at.device()) return busRead(at.first(), size);
        byte[] bytes = new byte[size];
        ram.read(at.first(), bytes, 0, at.firstLength());
        if (at.firstLength() < size) ram.read(at.second(), bytes, at.firstLength(), size - at.firstLength());
        long value = 0;
        for (int i = size - 1; i >= 0; i--) value = value << 8 | bytes[i] & 0xFF;
        return value;
    }

    void write(SegmentRegister segment, long linear, int size, long value) throws GuestExceptionSignal, UnsupportedMmioSignal {
        Location at = locate(segment, linear, size, true);
        if (at.device()) {
            busWrite(at.first(), size, value);
            return;
        }
        if (dryRun) return;
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) bytes[i] = (byte) (value >>> 8 * i);
        ram.write(at.first(), bytes, 0, at.firstLength());
        if (at.firstLength() < size) ram.write(at.second(), bytes, at.firstLength(), size - at.firstLength());
    }

    /**
     * Makes the checks of a write without writing, so an instruction that reads a device and then writes
     * memory faults before the device sees the read (a device read can have side effects; repeating it when
     * the guest retries after the fault would be wrong).
     */
    void checkWritable(SegmentRegister segment, long linear, int size) throws GuestExceptionSignal, UnsupportedMmioSignal {
        locate(segment, linear, size, true);
    }

    private Location locate(SegmentRegister segment, long linear, int size, boolean write)
            throws GuestExceptionSignal, UnsupportedMmioSignal {
        if (mode.is64Bit() && !EffectiveAddress.isCanonical(linear, sregs)) {
            int vector = segment == SegmentRegister.SS ? MmioResult.Fault.VECTOR_SS : MmioResult.Fault.VECTOR_GP;
            throw new GuestExceptionSignal(vector, 0, 0, String.format("non-canonical address 0x%x", linear));
        }
        long first = translate(linear, write);
        int firstLength = (int) Math.min(size, PAGE_SIZE - (linear & (PAGE_SIZE - 1)));
        if (firstLength == size) {
            return new Location(isDevice(first, size), first, size, 0);
        }
        long second = translate(mode.maskLinearAddress(linear + firstLength), write);
        if (isDevice(first, firstLength) || isDevice(second, size - firstLength)) {
            throw new UnsupportedMmioSignal(String.format(
                    "a %d-byte access at linear 0x%x crosses a page boundary into MMIO", size, linear));
        }
        return new Location(false, first, firstLength, second);
    }

    /** The faulting address is a device even if it is RAM to us (a hypervisor may trap writes to ROM there). */
    private boolean isDevice(long physical, int length) {
        return physical == faultingGpa || !ram.isValid(physical, length);
    }

    private long translate(long linear, boolean write) throws GuestExceptionSignal {
        long physical = paging.physicalAddress(linear);
        if (physical >= 0) return physical;
        // Not present (P = 0); W/R and U/S describe the access. SS.DPL is the CPL (SDM Vol. 3A §5.2).
        int errorCode = (write ? PF_WRITE : 0) | (sregs.ss().dpl() == 3 ? PF_USER : 0);
        throw new GuestExceptionSignal(MmioResult.Fault.VECTOR_PF, errorCode, linear,
                String.format("linear address 0x%x is not mapped", linear));
    }

    private long busRead(long gpa, int size) {
        long value = dryRun ? 0 : bus.read(gpa, size) & GprState.mask(size);
        busAccesses.add(new BusAccess(gpa, size, false, value));
        return value;
    }

    private void busWrite(long gpa, int size, long value) {
        long masked = value & GprState.mask(size);
        busAccesses.add(new BusAccess(gpa, size, true, masked));
        if (!dryRun) bus.write(gpa, size, masked);
    }
}

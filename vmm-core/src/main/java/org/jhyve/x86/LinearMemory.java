package org.jhyve.x86;

import java.util.Arrays;
import org.jhyve.hv.Vcpu;
import org.jhyve.memory.GuestMemory;

/**
 * Guest RAM as the vCPU sees it through its current paging: each access is split at 4 KiB page boundaries
 * and every page is translated on its own, since neighbouring linear pages need not be neighbours in
 * guest-physical memory. Larger pages are 4 KiB aligned too, so splitting at 4 KiB is always safe.
 *
 * <p>{@link Vcpu#translate} (the usual {@link LinearTranslator}) reports only whether a page is mapped, not its
 * access rights, so writes to a read-only or supervisor page are not refused here as they would be on a CPU.
 */
final class LinearMemory {
    static final int PAGE_SIZE = 4096;

    private final LinearTranslator paging;
    private final GuestMemory memory;
    private final CpuMode mode;

    LinearMemory(Vcpu vcpu, GuestMemory memory, CpuMode mode) {
        this(vcpu::translate, memory, mode);
    }

    LinearMemory(LinearTranslator paging, GuestMemory memory, CpuMode mode) {
        this.paging = paging;
        this.memory = memory;
        this.mode = mode;
    }

    /** Up to {@code max} bytes from {@code linear}, stopping early at the first page that is unmapped or not RAM. */
    byte[] readUpTo(long linear, int max) {
        byte[] out = new byte[max];
        int done = 0;
        while (done < max) {
            long address = mode.maskLinearAddress(linear + done);
            int chunk = chunk(address, max - done);
            long physical = paging.physicalAddress(address);
            if (physical < 0 || !memory.isValid(physical, chunk)) break;
            memory.read(physical, out, done, chunk);
            done += chunk;
        }
        return Arrays.copyOf(out, done);
    }

    /** Exactly {@code length} bytes from {@code linear}. */
    byte[] read(long linear, int length) throws LinearAccessException {
        long[] physical = translateAll(linear, length);
        byte[] out = new byte[length];
        int done = 0;
        for (long page : physical) {
            int chunk = chunk(mode.maskLinearAddress(linear + done), length - done);
            memory.read(page, out, done, chunk);
            done += chunk;
        }
        return out;
    }

    /** Writes {@code data} at {@code linear}; nothing is written unless every page it touches is mapped RAM. */
    void write(long linear, byte[] data) throws LinearAccessException {
        long[] physical = translateAll(linear, data.length);
        int done = 0;
        for (long page : physical) {
            int chunk = chunk(mode.maskLinearAddress(linear + done), data.length - done);
            memory.write(page, data, done, chunk);
            done += chunk;
        }
    }

    /** The physical address of each page-sized piece of {@code [linear, linear+length)}, all checked first. */
    private long[] translateAll(long linear, int length) throws LinearAccessException {
        long first = mode.maskLinearAddress(linear);
        int pieces = (int) (((first & (PAGE_SIZE - 1)) + length + PAGE_SIZE - 1) / PAGE_SIZE);
        long[] physical = new long[pieces];
        int done = 0;
        for (int i = 0; i < pieces; i++) {
            long address = mode.maskLinearAddress(linear + done);
            int chunk = chunk(address, length - done);
            physical[i] = paging.physicalAddress(address);
            if (physical[i] < 0) throw new LinearAccessException(address, "is not mapped");
            if (!memory.isValid(physical[i], chunk)) {
                throw new LinearAccessException(address, String.format("maps to 0x%x, which is not RAM", physical[i]));
            }
            done += chunk;
        }
        return physical;
    }

    private static int chunk(long address, int remaining) {
        return (int) Math.min(remaining, PAGE_SIZE - (address & (PAGE_SIZE - 1)));
    }
}

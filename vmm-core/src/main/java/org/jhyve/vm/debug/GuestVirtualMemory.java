package org.jhyve.vm.debug;

import java.util.Arrays;
import org.jhyve.hv.Vcpu;
import org.jhyve.memory.GuestMemory;

/**
 * Guest RAM at virtual addresses, as one vCPU sees it through its page tables (with paging off, KVM's
 * translation is the identity). Each 4 KiB page is translated on its own: neighbouring virtual pages need not
 * be neighbours in guest-physical memory. Runs on the vCPU's thread (translation is a vCPU call).
 */
final class GuestVirtualMemory {
    private static final int PAGE = 4096;

    private GuestVirtualMemory() {}

    /** Up to {@code length} bytes, stopping at the first page that is unmapped or not RAM. */
    static byte[] read(Vcpu vcpu, GuestMemory memory, long address, int length) {
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            int chunk = chunk(address + done, length - done);
            long physical = vcpu.translate(address + done);
            if (physical < 0 || !memory.isValid(physical, chunk)) break;
            memory.read(physical, out, done, chunk);
            done += chunk;
        }
        return Arrays.copyOf(out, done);
    }

    /** The guest-physical address of each byte's page piece, or null if any page is unmapped or not RAM. */
    static long[] translate(Vcpu vcpu, GuestMemory memory, long address, int length) {
        long[] pieces = new long[(int) (((address & (PAGE - 1)) + length + PAGE - 1) / PAGE)];
        int done = 0;
        for (int i = 0; i < pieces.length; i++) {
            int chunk = chunk(address + done, length - done);
            long physical = vcpu.translate(address + done);
            if (physical < 0 || !memory.isValid(physical, chunk)) return null;
            pieces[i] = physical;
            done += chunk;
        }
        return pieces;
    }

    /** Writes {@code data} through pieces from {@link #translate}. */
    static void write(GuestMemory memory, long[] pieces, long address, byte[] data) {
        int done = 0;
        for (long physical : pieces) {
            int chunk = chunk(address + done, data.length - done);
            memory.write(physical, data, done, chunk);
            done += chunk;
        }
    }

    private static int chunk(long address, int remaining) {
        return (int) Math.min(remaining, PAGE - (address & (PAGE - 1)));
    }
}

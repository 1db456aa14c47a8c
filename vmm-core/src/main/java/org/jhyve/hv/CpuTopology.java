package org.jhyve.hv;

/**
 * How a VM's vCPUs are grouped, as the guest's CPUID (leaves 1, 4 and 0xB) describes them: {@code sockets}
 * packages of {@code cores} cores of {@code threads} threads; vCPU {@code i} has APIC ID {@code i}, as bhyve
 * numbers them, so the IDs decode into (package, core, thread) exactly when cores and threads are powers of two.
 */
public record CpuTopology(int sockets, int cores, int threads) {
    public CpuTopology {
        if (sockets < 1 || cores < 1 || threads < 1) {
            throw new IllegalArgumentException("sockets, cores and threads must be at least 1: " + sockets + "/" + cores + "/" + threads);
        }
        if ((long) sockets * cores * threads > 0xffff) throw new IllegalArgumentException("too many vCPUs: " + sockets + "*" + cores + "*" + threads);
    }

    /** jhyve's default for {@code vcpus} vCPUs when no topology is given: one package of that many cores. */
    public static CpuTopology onePackage(int vcpus) {
        return new CpuTopology(1, vcpus, 1);
    }

    public int vcpus() {
        return sockets * cores * threads;
    }

    /** Bits of the APIC ID that number the thread in its core: ceil(log2 threads). */
    public int threadBits() {
        return bitsFor(threads);
    }

    /** Bits of the APIC ID that number the core in its package: ceil(log2 cores). */
    public int coreBits() {
        return bitsFor(cores);
    }

    private static int bitsFor(int n) {
        return 32 - Integer.numberOfLeadingZeros(n - 1);
    }
}

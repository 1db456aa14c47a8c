package org.jhyve.cli;

import org.jhyve.hv.CpuTopology;
import org.jhyve.vm.VmBuilder;

/**
 * {@code -c}: xhyve's {@code -c N} and bhyve's {@code -c [[cpus=]N][,sockets=S][,cores=C][,threads=T]}, read
 * as bhyve's {@code calc_topology} reads them: sockets default to the number of CPUs (so {@code -c 4} is four
 * single-core packages, as in bhyve and xhyve), cores and threads to 1; with both a CPU count and a topology,
 * their product must be the count; with a topology alone the count is the product. {@code -c ""} is 1 vCPU.
 */
final class TopologySpec {
    private TopologySpec() {}

    static CpuTopology parse(String text) throws UsageException {
        String flag = "-c " + text;
        Integer cpus = null, sockets = null;
        int cores = 1, threads = 1;
        for (String token : text.split(",", -1)) {
            if (token.isEmpty()) continue; // bhyve skips empty tokens ("-c ''" included)
            int eq = token.indexOf('=');
            String key = eq < 0 ? "cpus" : token.substring(0, eq);
            String value = eq < 0 ? token : token.substring(eq + 1);
            switch (key) {
                case "cpus" -> cpus = number(flag, key, value);
                case "sockets" -> sockets = number(flag, key, value);
                case "cores" -> cores = number(flag, key, value);
                case "threads" -> threads = number(flag, key, value);
                default -> throw new UsageException(flag, "unknown key '" + key + "' (cpus=, sockets=, cores=, threads=)");
            }
        }
        int s = sockets != null ? sockets : cpus != null ? cpus : 1;
        long product = (long) s * cores * threads;
        if (cpus != null && product != cpus) {
            throw new UsageException(flag, String.format("topology (%d sockets, %d cores, %d threads) does not match %d vCPUs", s, cores, threads, cpus));
        }
        if (product < 1 || product > VmBuilder.MAX_VCPUS) throw new UsageException(flag, "vCPU count must be 1-" + VmBuilder.MAX_VCPUS);
        return new CpuTopology(s, cores, threads);
    }

    /** As bhyve's parse_int_value (strtol, base 0). */
    private static int number(String flag, String key, String value) throws UsageException {
        long v;
        try {
            v = CNumber.parse(value);
        } catch (NumberFormatException e) {
            throw new UsageException(flag, key.equals("cpus") ? "not a number of vCPUs" : key + "=" + value + " is not a number");
        }
        if (v < 1 || v > VmBuilder.MAX_VCPUS) {
            throw new UsageException(flag, key.equals("cpus") ? "vCPU count must be 1-" + VmBuilder.MAX_VCPUS : key + "= must be 1-" + VmBuilder.MAX_VCPUS);
        }
        return (int) v;
    }
}

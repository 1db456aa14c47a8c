package org.jhyve.cli;

import org.jhyve.hv.CpuTopology;
import org.jhyve.vm.VmBuilder;

/**
 * {@code -c}: xhyve's {@code -c N} and bhyve's {@code -c [[cpus=]N][,sockets=S][,cores=C][,threads=T]}. A count
 * alone ({@code -c 4}, {@code -c cpus=4}) is jhyve's one package of N single-threaded cores, as before: bhyve
 * and xhyve make N single-core packages of it, which guests licensed or tuned per socket (Windows client
 * editions take two sockets) handle worse; {@code -c 4,sockets=4} asks for that. With any of sockets, cores or
 * threads the rest is bhyve's {@code calc_topology}: sockets default to the CPU count given (else 1), cores and
 * threads to 1; with a count, the product must equal it; without, the count is the product. {@code -c ""} is
 * 1 vCPU.
 */
final class TopologySpec {
    private TopologySpec() {}

    static CpuTopology parse(String text) throws UsageException {
        String flag = "-c " + text;
        Integer cpus = null, sockets = null;
        int cores = 1, threads = 1;
        boolean topologyGiven = false;
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
            topologyGiven |= !key.equals("cpus");
        }
        if (!topologyGiven) return CpuTopology.onePackage(cpus != null ? cpus : 1); // a count alone: jhyve's one package (see above)
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

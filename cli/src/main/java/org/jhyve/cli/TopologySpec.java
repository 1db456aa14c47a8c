package org.jhyve.cli;

import java.util.List;
import java.util.Optional;
import org.jhyve.config.ConfigNode;
import org.jhyve.config.ConfigTree;
import org.jhyve.hv.CpuTopology;
import org.jhyve.vm.VmBuilder;

/**
 * {@code -c}: xhyve's {@code -c N} and bhyve's {@code -c [[cpus=]N][,sockets=S][,cores=C][,threads=T]}, which set
 * bhyve's keys {@code cpus}, {@code sockets}, {@code cores}, {@code threads}. A count alone ({@code cpus} without
 * the others: {@code -c 4}, {@code -c cpus=4}) is jhyve's one package of N single-threaded cores, as before: bhyve
 * and xhyve make N single-core packages of it, which guests licensed or tuned per socket (Windows client
 * editions take two sockets) handle worse; {@code -c 4,sockets=4} asks for that. With any of sockets, cores or
 * threads the rest is bhyve's {@code calc_topology}: sockets default to the CPU count given (else 1), cores and
 * threads to 1; with a count, the product must equal it; without, the count is the product. {@code -c ""} is
 * 1 vCPU.
 */
final class TopologySpec {
    private TopologySpec() {}

    private static final List<String> KEYS = List.of("cpus", "sockets", "cores", "threads");

    /** The flag's keys; a later one of a key wins, as in bhyve. */
    static void translate(String text, ConfigTree.Builder b) throws UsageException {
        String flag = "-c " + text;
        for (String token : text.split(",", -1)) {
            if (token.isEmpty()) continue; // bhyve skips empty tokens ("-c ''" included)
            int eq = token.indexOf('=');
            String key = eq < 0 ? "cpus" : token.substring(0, eq);
            if (!KEYS.contains(key)) throw new UsageException(flag, "unknown key '" + key + "' (cpus=, sockets=, cores=, threads=)");
            KeyErrors.set(b, key, eq < 0 ? token : token.substring(eq + 1), flag);
        }
    }

    /** The flag alone, as the tree it makes would give it. */
    static CpuTopology parse(String text) throws UsageException {
        ConfigTree.Builder b = ConfigTree.builder();
        translate(text, b);
        return read(b.build());
    }

    static CpuTopology read(ConfigTree tree) throws UsageException {
        ConfigNode root = tree.root();
        Integer cpus = number(tree, "cpus").orElse(null), sockets = number(tree, "sockets").orElse(null);
        Optional<Integer> givenCores = number(tree, "cores"), givenThreads = number(tree, "threads");
        boolean topologyGiven = sockets != null || givenCores.isPresent() || givenThreads.isPresent();
        if (!topologyGiven) return CpuTopology.onePackage(cpus != null ? cpus : 1); // a count alone: jhyve's one package (see above)
        int s = sockets != null ? sockets : cpus != null ? cpus : 1, cores = givenCores.orElse(1), threads = givenThreads.orElse(1);
        long product = (long) s * cores * threads;
        String where = KeyErrors.origin(tree, KEYS.stream().filter(root::has).findFirst().orElseThrow());
        if (cpus != null && product != cpus) {
            throw new UsageException(where, String.format("topology (%d sockets, %d cores, %d threads) does not match %d vCPUs", s, cores, threads, cpus));
        }
        if (product < 1 || product > VmBuilder.MAX_VCPUS) throw new UsageException(where, "vCPU count must be 1-" + VmBuilder.MAX_VCPUS);
        return new CpuTopology(s, cores, threads);
    }

    /** As bhyve's parse_int_value (strtol, base 0). */
    private static Optional<Integer> number(ConfigTree tree, String key) throws UsageException {
        Optional<String> value = tree.value(key);
        if (value.isEmpty()) return Optional.empty();
        String where = KeyErrors.origin(tree, key);
        long v;
        try {
            v = CNumber.parse(value.get());
        } catch (NumberFormatException e) {
            throw new UsageException(where, key.equals("cpus") ? "not a number of vCPUs" : key + "=" + value.get() + " is not a number");
        }
        if (v < 1 || v > VmBuilder.MAX_VCPUS) {
            throw new UsageException(where, key.equals("cpus") ? "vCPU count must be 1-" + VmBuilder.MAX_VCPUS : key + "= must be 1-" + VmBuilder.MAX_VCPUS);
        }
        return Optional.of((int) v);
    }
}

package org.jhyve.build;

/**
 * A build switch, not a setting: whether vmm-core is compiled with its observability hooks (the trace and JFR
 * calls of the vCPU loop, the buses and PCI configuration cycles). Maven writes this file from
 * {@code src/main/java-templates} with the property {@code jhyve.observability} (default {@code true});
 * {@code scripts/bench-exits} builds vmm-core with it {@code false} to measure what the hooks cost when tracing
 * is off. Being a compile-time constant, a hook guarded by it is not in the class files at all when it is
 * false. In a package vmm-core does not export.
 */
public final class Observability {
    /** Whether the hooks are compiled in. */
    public static final boolean HOOKS = ${jhyve.observability};

    private Observability() {}
}

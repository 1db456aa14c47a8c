package org.jhyve.cli;

import java.lang.management.ManagementFactory;

/** The host's physical memory: the ceiling for {@code -m}. */
final class HostMemory {
    private HostMemory() {}

    static long total() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) return sun.getTotalMemorySize();
        return Long.MAX_VALUE;
    }
}

package org.jhyve.boot;

import org.jhyve.memory.GuestMemory;

/**
 * Puts a guest image into guest memory and says how the boot vCPU starts. Runs once, before any vCPU.
 * Other vCPUs start in wait-for-SIPI, as on a real machine.
 */
@FunctionalInterface
public interface BootLoader {
    /** @throws BootException with a one-line message when the image cannot be booted */
    BootState load(GuestMemory memory, int vcpuCount);
}

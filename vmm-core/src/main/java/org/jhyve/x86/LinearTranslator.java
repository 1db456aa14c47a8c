package org.jhyve.x86;

/**
 * The guest's paging as the VMM sees it: a linear address to the guest-physical address it maps to, or -1
 * when it is not mapped. {@code vcpu::translate} is one ({@link org.jhyve.hv.Vcpu#translate}); tests use tables.
 *
 * <p>Called on the thread that runs the emulator (the vCPU's, between runs).
 */
@FunctionalInterface
public interface LinearTranslator {
    long physicalAddress(long linearAddress);
}

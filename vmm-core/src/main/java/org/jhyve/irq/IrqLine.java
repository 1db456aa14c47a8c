package org.jhyve.irq;

/** One interrupt line as a device sees it: it drives the level; the platform routes it. */
@FunctionalInterface
public interface IrqLine {
    void set(boolean asserted);

    /** An edge: assert then deassert, for edge-triggered lines such as the ISA ones. */
    default void pulse() {
        set(true);
        set(false);
    }
}

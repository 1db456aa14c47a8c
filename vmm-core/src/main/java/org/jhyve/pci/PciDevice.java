package org.jhyve.pci;

/**
 * A PCI function as the bus sees it: configuration-space reads and writes. {@code offset} is aligned to
 * {@code size} (1, 2 or 4) and below 256. Most devices extend {@link PciFunction} rather than implement this.
 *
 * <p>Threading rules. Several vCPU threads make configuration cycles at once (mechanism #1 ports, firmware), but
 * {@link PciBus} holds its monitor for each, so a function sees {@link #configRead} and {@link #configWrite} one at
 * a time, always with that monitor held, and never concurrently with another function's. An implementation may
 * therefore keep its configuration state unsynchronized against these calls; state it shares with other threads
 * (its BAR handlers on vCPUs, its device workers) needs a lock or publication of its own, as {@link PciFunction}
 * gives its configuration bytes. Because the bus monitor is held, these methods must not block on anything that
 * waits for a configuration cycle, and should return promptly: other vCPUs' cycles wait meanwhile. {@link #name}
 * is constant and may be called from any thread.
 */
public interface PciDevice {
    String name();

    int configRead(int offset, int size);

    void configWrite(int offset, int size, int value);
}

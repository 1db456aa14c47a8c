package org.jhyve.pci;

/**
 * A PCI function as the bus sees it: configuration-space reads and writes. {@code offset} is aligned to
 * {@code size} (1, 2 or 4) and below 256. Most devices extend {@link PciFunction} rather than implement this.
 */
public interface PciDevice {
    String name();

    int configRead(int offset, int size);

    void configWrite(int offset, int size, int value);
}

package org.jhyve.pci;

/** A PCI function's place: bus 0–255, slot (device) 0–31, function 0–7. Printed as bhyve does: {@code bus:slot:func}. */
public record PciAddress(int bus, int slot, int function) {
    public PciAddress {
        if (bus < 0 || bus > 255) throw new IllegalArgumentException("PCI bus must be 0-255: " + bus);
        if (slot < 0 || slot > 31) throw new IllegalArgumentException("PCI slot must be 0-31: " + slot);
        if (function < 0 || function > 7) throw new IllegalArgumentException("PCI function must be 0-7: " + function);
    }

    @Override
    public String toString() {
        return bus + ":" + slot + ":" + function;
    }
}

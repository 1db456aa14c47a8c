package org.jhyve.cli;

import org.jhyve.pci.PciAddress;

/** One {@code -s} flag: where ({@code slot[:func]} or {@code bus:slot:func}), which emulation, its options. */
record PciSlotSpec(String flag, PciAddress address, String emulation, String options) {

    static PciSlotSpec parse(String text) throws UsageException {
        String flag = "-s " + text;
        String[] parts = text.split(",", 3);
        if (parts.length < 2 || parts[1].isEmpty()) throw new UsageException(flag, "expected slot[:func],emulation[,conf]");
        String[] numbers = parts[0].split(":", -1);
        int bus = 0, slot, function = 0;
        switch (numbers.length) {
            case 1 -> slot = number(flag, "slot", numbers[0]);
            case 2 -> {
                slot = number(flag, "slot", numbers[0]);
                function = number(flag, "function", numbers[1]);
            }
            case 3 -> {
                bus = number(flag, "bus", numbers[0]);
                slot = number(flag, "slot", numbers[1]);
                function = number(flag, "function", numbers[2]);
            }
            default -> throw new UsageException(flag, "expected slot[:func] or bus:slot:func");
        }
        if (bus > 255) throw new UsageException(flag, "PCI bus must be 0-255");
        if (slot > 31) throw new UsageException(flag, "PCI slot must be 0-31");
        if (function > 7) throw new UsageException(flag, "PCI function must be 0-7");
        return new PciSlotSpec(flag, new PciAddress(bus, slot, function), parts[1], parts.length == 3 ? parts[2] : "");
    }

    private static int number(String flag, String what, String text) throws UsageException {
        try {
            int v = Integer.parseInt(text);
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new UsageException(flag, "PCI " + what + " '" + text + "' is not a number");
        }
    }
}

package org.jhyve.cli;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jhyve.config.ConfigException;
import org.jhyve.config.ConfigNode;
import org.jhyve.config.ConfigTree;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.pci.PciAddress;
import org.jhyve.vm.DeviceConfigException;

/**
 * The tree's PCI functions, {@code pci.BUS.SLOT.FUNCTION} (decimal, no padding, as bhyve), each with its
 * {@code device} and checked by its emulation, which reads the keys it knows under the node.
 */
final class PciSlots {
    private PciSlots() {}

    static List<PciSlotNode> read(ConfigTree tree, DeviceCatalog catalog) throws UsageException {
        ConfigNode pci = tree.node("pci");
        List<PciSlotNode> slots = new ArrayList<>();
        for (String bus : pci.childNames()) {
            for (String slot : pci.child(bus).childNames()) {
                for (String function : pci.child(bus).child(slot).childNames()) {
                    slots.add(slot(tree, catalog, pci.child(bus).child(slot).child(function), bus, slot, function));
                }
            }
        }
        slots.sort(Comparator.comparingInt((PciSlotNode s) -> s.address().bus()).thenComparingInt(s -> s.address().slot())
                .thenComparingInt(s -> s.address().function()));
        return List.copyOf(slots);
    }

    private static PciSlotNode slot(ConfigTree tree, DeviceCatalog catalog, ConfigNode node, String bus, String slot, String function)
            throws UsageException {
        String where = KeyErrors.origin(tree, node.path());
        PciAddress address = address(bus, slot, function);
        if (address == null) {
            throw new UsageException(where, node.path() + " is not a PCI function's node (pci.BUS.SLOT.FUNCTION in decimal: bus 0-255, slot 0-31, function 0-7)");
        }
        String name = node.get("device").orElseThrow(() -> new UsageException(where, node.path() + " has no " + node.key("device") + " (its emulation)"));
        String deviceFlag = KeyErrors.origin(tree, node.key("device"));
        var emulation = catalog.lookup(name).orElseThrow(() -> new UsageException(deviceFlag, "unknown emulation '" + name + "' (see -s help)"));
        if (!emulation.supported()) throw new UsageException(deviceFlag, name + " is not supported yet");
        try {
            emulation.check(node);
        } catch (ConfigException e) {
            throw KeyErrors.usage(tree, e);
        } catch (DeviceConfigException e) {
            throw new UsageException(deviceFlag, e.getMessage());
        }
        return new PciSlotNode(address, name, node);
    }

    /** The address the three names give, or null unless each is a canonical decimal number in range. */
    private static PciAddress address(String bus, String slot, String function) {
        int b = number(bus, 255), s = number(slot, 31), f = number(function, 7);
        return b < 0 || s < 0 || f < 0 ? null : new PciAddress(b, s, f);
    }

    private static int number(String name, int max) {
        if (!name.matches("0|[1-9][0-9]{0,2}")) return -1;
        int n = Integer.parseInt(name);
        return n <= max ? n : -1;
    }
}

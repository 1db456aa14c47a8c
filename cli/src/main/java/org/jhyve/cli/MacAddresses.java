package org.jhyve.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jhyve.devices.virtio.VirtioNetOptions;

/**
 * {@code -M}: the MAC address of each virtio-net device of the configuration, in slot order, the same one
 * the device will have, from {@link VirtioNetOptions#macFor} as the device's factory has it (CliBhyveFlagsProcessTest
 * checks -M against the MAC a guest reads from the device).
 */
final class MacAddresses {
    private MacAddresses() {}

    static final Set<String> NET_EMULATIONS = Set.of("virtio-net", "virtio-tap");

    /** @throws org.jhyve.config.ConfigException for settings MachineSpec let through but the device would refuse */
    static List<String> of(MachineSpec spec) {
        List<String> macs = new ArrayList<>();
        for (PciSlotNode slot : spec.slots()) {
            if (!NET_EMULATIONS.contains(slot.emulation())) continue;
            VirtioNetOptions options = VirtioNetOptions.from(slot.node());
            macs.add(VirtioNetOptions.format(options.macFor(spec.uuid(), slot.address())));
        }
        return macs;
    }
}

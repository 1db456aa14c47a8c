package org.jhyve.devices.virtio;

import java.io.IOException;
import java.util.List;
import org.jhyve.config.ConfigNode;
import org.jhyve.devices.net.NetBackend;
import org.jhyve.devices.net.PasstBackend;
import org.jhyve.devices.net.TapBackend;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciDevice;
import org.jhyve.vm.DeviceConfigException;
import org.jhyve.vm.MachineContext;

/** {@code -s SLOT,virtio-net[,BACKEND][,mac=...][,queues=N]}: opens the backend(s) (starts passt for slirp) and puts a virtio-net on PCI. */
public final class VirtioNetFactory {
    private VirtioNetFactory() {}

    public static PciDevice create(MachineContext machine, PciAddress address, String options) {
        return create(machine, address, VirtioNetOptions.parse(options));
    }

    /** From the device's node of the configuration tree ({@link VirtioNetOptions#from}). */
    public static PciDevice create(MachineContext machine, PciAddress address, ConfigNode node) {
        return create(machine, address, VirtioNetOptions.from(node));
    }

    /** From settings a program made itself, no string or tree between. */
    public static PciDevice create(MachineContext machine, PciAddress address, VirtioNetOptions opts) {
        List<NetBackend> backends;
        try {
            backends = switch (opts.backend()) {
                case VirtioNetOptions.Tap tap -> List.copyOf(TapBackend.openQueues(tap.name(), opts.queuePairs()));
                case VirtioNetOptions.Socket s -> List.of(org.jhyve.devices.net.SocketBackend.open(s.local(), s.peer()));
                case VirtioNetOptions.UserNet u -> List.of(PasstBackend.start("virtio-net@" + address, u.forwards().stream()
                        .map(f -> new PasstBackend.Forward(f.udp(), f.hostAddress(), f.hostPort(), f.guestPort())).toList()));
            };
        } catch (IOException e) {
            throw new DeviceConfigException("virtio-net: " + e.getMessage(), e);
        }
        String name = "virtio-net@" + address;
        // Stable across runs, as bhyve's: from the VM's UUID and the slot (-U), else from the slot and backend.
        byte[] mac = opts.macFor(machine.uuid(), address);
        int gsi = VirtioBlockFactory.intxGsi(address);
        return new VirtioPciTransport(name, new VirtioNet(name, backends, mac), machine, machine.irq(gsi), gsi);
    }

    /** Checks the options without opening anything. */
    public static void check(String options) {
        VirtioNetOptions.parse(options);
    }

    /** Checks the node's settings without opening anything. */
    public static void check(ConfigNode node) {
        VirtioNetOptions.from(node);
    }
}

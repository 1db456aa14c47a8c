package org.jhyve.devices.virtio;

import java.io.IOException;
import org.jhyve.config.ConfigNode;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.devices.block.FileBlockBackend;
import org.jhyve.devices.block.ImageFiles;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciDevice;
import org.jhyve.vm.DeviceConfigException;
import org.jhyve.vm.MachineContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code -s SLOT,virtio-blk,PATH[,options]}: opens the image and puts a virtio-blk on PCI. */
public final class VirtioBlockFactory {
    private static final Logger log = LoggerFactory.getLogger(VirtioBlockFactory.class);

    private VirtioBlockFactory() {}

    public static PciDevice create(MachineContext machine, PciAddress address, String options) {
        return create(machine, address, VirtioBlockOptions.parse(options));
    }

    /** From the device's node of the configuration tree ({@link VirtioBlockOptions#from}). */
    public static PciDevice create(MachineContext machine, PciAddress address, ConfigNode node) {
        return create(machine, address, VirtioBlockOptions.from(node));
    }

    /** From settings a program made itself, no string or tree between. */
    public static PciDevice create(MachineContext machine, PciAddress address, VirtioBlockOptions opts) {
        String name = "virtio-blk@" + address;
        BlockBackend backend;
        try {
            backend = FileBlockBackend.open(opts.path(), opts.readOnly(), opts.direct(), opts.sync());
        } catch (IOException e) {
            throw new DeviceConfigException("virtio-blk: " + e.getMessage(), e);
        }
        try {
            ImageFiles.checkSize(opts.path(), backend.size(), opts.logicalSectorSize(), false).ifPresent(w -> log.warn("{}: {}", name, w));
        } catch (IOException e) {
            closeQuietly(backend);
            throw new DeviceConfigException("virtio-blk: " + e.getMessage(), e);
        }
        int gsi = intxGsi(address);
        return new VirtioPciTransport(name, new VirtioBlock(name, backend, opts), machine, machine.irq(gsi), gsi);
    }

    /** Checks the options and the image (kind, access, size), opening nothing. */
    public static void check(String options) {
        check(VirtioBlockOptions.parse(options));
    }

    /** Checks the node's settings and the image they name, opening nothing. */
    public static void check(ConfigNode node) {
        check(VirtioBlockOptions.from(node));
    }

    private static void check(VirtioBlockOptions opts) {
        ImageFiles.check(VirtioBlockOptions.NAME, opts.path(), opts.readOnly(), opts.direct(), opts.logicalSectorSize(), false);
    }

    private static void closeQuietly(BlockBackend backend) {
        try {
            backend.close();
        } catch (IOException ignored) {
            // already failing: the size error is the one to report
        }
    }

    /**
     * INTA# of slot S on IOAPIC pin 16 + S mod 8, the usual swizzle above the ISA IRQs. Only a fallback: the
     * guest finds no routing table for it, and drivers use MSI-X.
     */
    static int intxGsi(PciAddress address) {
        return 16 + address.slot() % 8;
    }
}

package org.jhyve.devices.virtio;

import java.io.IOException;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.devices.block.FileBlockBackend;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciDevice;
import org.jhyve.vm.DeviceConfigException;
import org.jhyve.vm.MachineContext;

/** {@code -s SLOT,virtio-blk,PATH[,options]}: opens the image and puts a virtio-blk on PCI. */
public final class VirtioBlockFactory {
    private VirtioBlockFactory() {}

    public static PciDevice create(MachineContext machine, PciAddress address, String options) {
        VirtioBlockOptions opts = VirtioBlockOptions.parse(options);
        BlockBackend backend;
        try {
            backend = FileBlockBackend.open(opts.path(), opts.readOnly(), opts.direct(), opts.sync());
        } catch (IOException e) {
            throw new DeviceConfigException("virtio-blk: " + e.getMessage(), e);
        }
        String name = "virtio-blk@" + address;
        int gsi = intxGsi(address);
        return new VirtioPciTransport(name, new VirtioBlock(name, backend, opts), machine, machine.irq(gsi), gsi);
    }

    /** Checks the options and that the image is there with the access they need, opening nothing. */
    public static void check(String options) {
        VirtioBlockOptions opts = VirtioBlockOptions.parse(options);
        java.nio.file.Path path = java.nio.file.Path.of(opts.path());
        if (!java.nio.file.Files.exists(path)) throw new DeviceConfigException("virtio-blk: " + opts.path() + ": no such file");
        if (java.nio.file.Files.isDirectory(path)) throw new DeviceConfigException("virtio-blk: " + opts.path() + " is a directory");
        if (!java.nio.file.Files.isReadable(path)) throw new DeviceConfigException("virtio-blk: " + opts.path() + ": not readable");
        if (!opts.readOnly() && !java.nio.file.Files.isWritable(path)) {
            throw new DeviceConfigException("virtio-blk: " + opts.path() + ": not writable (add ,ro for a read-only disk)");
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

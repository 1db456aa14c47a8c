package org.jhyve.devices.ahci;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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

/**
 * {@code -s SLOT,ahci-hd,PATH[,opts]}, {@code -s SLOT,ahci-cd,PATH[,opts]} (one HBA per slot with the drive on
 * port 0, as bhyve) and {@code -s SLOT,ahci,hd:PATH[,opts],cd:PATH[,opts],...} (one port per drive).
 */
public final class AhciFactory {
    private static final Logger log = LoggerFactory.getLogger(AhciFactory.class);

    private AhciFactory() {}

    public static PciDevice createDisk(MachineContext machine, PciAddress address, String options) {
        return create(machine, address, DriveKind.HD.emulation(), List.of(AhciDriveOptions.parse(DriveKind.HD, options)));
    }

    public static PciDevice createCdrom(MachineContext machine, PciAddress address, String options) {
        return create(machine, address, DriveKind.CD.emulation(), List.of(AhciDriveOptions.parse(DriveKind.CD, options)));
    }

    public static PciDevice createMultiPort(MachineContext machine, PciAddress address, String options) {
        return create(machine, address, "ahci", AhciDriveOptions.parsePorts(options));
    }

    /** Any of the three, from the controller's node: its {@code port.N} ({@link AhciDriveOptions#ports}). */
    public static PciDevice create(MachineContext machine, PciAddress address, String emulation, ConfigNode node) {
        return create(machine, address, emulation, AhciDriveOptions.ports(emulation, node));
    }

    /** Checks the node's ports and the images they name, opening nothing. */
    public static void check(String emulation, ConfigNode node) {
        AhciDriveOptions.ports(emulation, node).forEach(AhciFactory::check);
    }

    public static void checkDisk(String options) {
        check(AhciDriveOptions.parse(DriveKind.HD, options));
    }

    public static void checkCdrom(String options) {
        check(AhciDriveOptions.parse(DriveKind.CD, options));
    }

    public static void checkMultiPort(String options) {
        AhciDriveOptions.parsePorts(options).forEach(AhciFactory::check);
    }

    /** Checks the image (kind, access, size) for the drive, opening nothing. */
    private static void check(AhciDriveOptions drive) {
        ImageFiles.check(drive.kind().emulation(), drive.path(), drive.readOnly(), drive.direct(), sectorSize(drive), emptyAllowed(drive));
    }

    /** The size of the drive's blocks: the disk's logical sectors, a CD-ROM's 2048-byte blocks. */
    private static int sectorSize(AhciDriveOptions drive) {
        return drive.kind() == DriveKind.CD ? AtapiCdrom.BLOCK_SIZE : drive.logicalSectorSize();
    }

    /** An empty CD-ROM image is a drive without a disc; an empty disk is a mistake. */
    private static boolean emptyAllowed(AhciDriveOptions drive) {
        return drive.kind() == DriveKind.CD;
    }

    /** From drives a program described itself: port 0, 1... in order; {@code emulation} names the HBA in messages. */
    public static PciDevice create(MachineContext machine, PciAddress address, String emulation, List<AhciDriveOptions> drives) {
        String name = emulation + "@" + address;
        List<SataDevice> devices = new ArrayList<>();
        try {
            for (AhciDriveOptions drive : drives) {
                BlockBackend backend = FileBlockBackend.open(drive.path(), drive.readOnly(), drive.direct(), drive.sync());
                String portName = name + " port " + devices.size();
                try {
                    ImageFiles.checkSize(drive.path(), backend.size(), sectorSize(drive), emptyAllowed(drive))
                            .ifPresent(w -> log.warn("{}: {}", portName, w));
                } catch (IOException e) {
                    try {
                        backend.close();
                    } catch (IOException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                    throw e;
                }
                devices.add(drive.kind() == DriveKind.HD ? new AtaDisk(portName, backend, drive) : new AtapiCdrom(portName, backend, drive));
            }
        } catch (IOException e) {
            for (SataDevice opened : devices) {
                try {
                    opened.close();
                } catch (IOException ignored) {
                    // already failing: the open error is the one to report
                }
            }
            throw new DeviceConfigException(emulation + ": " + e.getMessage(), e);
        }
        int gsi = intxGsi(address);
        return new AhciHba(name, devices, machine, machine.irq(gsi), gsi);
    }

    /** INTA# of slot S on IOAPIC pin 16 + S mod 8: the same swizzle as the virtio devices', a fallback to MSI. */
    static int intxGsi(PciAddress address) {
        return 16 + address.slot() % 8;
    }
}

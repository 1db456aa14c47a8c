package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciDevice;
import org.jhyve.testing.TestMachine;
import org.jhyve.vm.DeviceConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code -s} options of ahci-hd, ahci-cd and the multi-port ahci, and the factory behind them. */
class AhciDriveOptionsTest {
    @TempDir
    Path dir;

    @Test
    void diskOptionsAreBhyves() {
        AhciDriveOptions o = AhciDriveOptions.parse(DriveKind.HD, "disk.img,ro,nocache,sync,sectorsize=512/4096,ser=ABC");
        assertThat(o).isEqualTo(new AhciDriveOptions(DriveKind.HD, "disk.img", true, true, true, 512, 4096, Optional.of("ABC")));
        assertThat(AhciDriveOptions.parse(DriveKind.HD, "d.img")).isEqualTo(
                new AhciDriveOptions(DriveKind.HD, "d.img", false, false, false, 512, 512, Optional.empty()));
        assertThat(AhciDriveOptions.parse(DriveKind.CD, "x.iso").readOnly()).as("a CD-ROM is read-only").isTrue();
        assertThat(AhciDriveOptions.parse(DriveKind.HD, "d.img,nodelete").discard()).as("nodelete: no TRIM").isFalse();
        assertThat(AhciDriveOptions.parse(DriveKind.HD, "d.img").discard()).isTrue();
        AhciDriveOptions direct = AhciDriveOptions.parse(DriveKind.HD, "d.img,direct");
        assertThat(direct.direct()).as("bhyve's direct is O_SYNC").isFalse();
        assertThat(direct.sync()).isTrue();
    }

    @Test
    void badOptionsSayWhatIsWrong() {
        assertThatThrownBy(() -> AhciDriveOptions.parse(DriveKind.HD, "")).isInstanceOf(DeviceConfigException.class)
                .hasMessage("ahci-hd needs an image path: -s SLOT,ahci-hd,PATH");
        assertThatThrownBy(() -> AhciDriveOptions.parse(DriveKind.HD, "d.img,fast"))
                .hasMessage("ahci-hd: unknown option 'fast' (known: ro, nocache, sync, direct, nodelete, sectorsize=, serial=)");
        assertThatThrownBy(() -> AhciDriveOptions.parse(DriveKind.HD, "d.img,sectorsize=1000"))
                .hasMessage("ahci-hd: sector size 1000 is not a power of two from 512 to 65536");
        assertThatThrownBy(() -> AhciDriveOptions.parse(DriveKind.HD, "d.img,sectorsize=4096/512"))
                .hasMessage("ahci-hd: sectorsize=4096/512: use LOGICAL or LOGICAL/PHYSICAL, physical >= logical");
        assertThatThrownBy(() -> AhciDriveOptions.parse(DriveKind.HD, "d.img,serial=012345678901234567890"))
                .hasMessage("ahci-hd: serial=012345678901234567890: at most 20 printable ASCII characters");
        assertThatThrownBy(() -> AhciDriveOptions.parse(DriveKind.CD, "x.iso,sectorsize=2048"))
                .hasMessage("ahci-cd: sectorsize= is for disks (a CD-ROM has 2048-byte blocks)");
        assertThatThrownBy(() -> AhciDriveOptions.parse(DriveKind.CD, "x.iso,serial="))
                .hasMessage("ahci-cd: serial= needs a value");
    }

    @Test
    void theDerivedSerialIsStableAndDependsOnThePath() {
        String a = AhciDriveOptions.parse(DriveKind.HD, "/images/a.img").serialNumber();
        assertThat(a).matches("JHYVE-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}").hasSize(20);
        assertThat(AhciDriveOptions.parse(DriveKind.HD, "/images/./a.img,ro").serialNumber()).isEqualTo(a);
        assertThat(AhciDriveOptions.parse(DriveKind.HD, "/images/b.img").serialNumber()).isNotEqualTo(a);
        assertThat(AhciDriveOptions.parse(DriveKind.HD, "/images/a.img,serial=MINE").serialNumber()).isEqualTo("MINE");
    }

    @Test
    void theMultiPortFormGivesEachHdOrCdItsOwnPort() {
        List<AhciDriveOptions> ports = AhciDriveOptions.parsePorts("hd:a.img,ro,sectorsize=4096,cd:x.iso,hd:b.img");
        assertThat(ports).extracting(AhciDriveOptions::kind).containsExactly(DriveKind.HD, DriveKind.CD, DriveKind.HD);
        assertThat(ports).extracting(AhciDriveOptions::path).containsExactly("a.img", "x.iso", "b.img");
        assertThat(ports.get(0).readOnly()).isTrue();
        assertThat(ports.get(0).logicalSectorSize()).isEqualTo(4096);
        assertThat(ports.get(2).readOnly()).isFalse();
        assertThatThrownBy(() -> AhciDriveOptions.parsePorts("a.img")).hasMessage("ahci: 'a.img': each port starts with hd:PATH or cd:PATH");
        assertThatThrownBy(() -> AhciDriveOptions.parsePorts("")).hasMessageStartingWith("ahci needs at least one port");
        assertThatThrownBy(() -> AhciDriveOptions.parsePorts("hd:")).hasMessage("ahci-hd needs an image path: -s SLOT,ahci-hd,PATH");
    }

    @Test
    void checkRefusesMissingDirectoriesAndUnwritableImages() throws Exception {
        assertThatThrownBy(() -> AhciFactory.checkDisk("/no/disk.img")).hasMessage("ahci-hd: /no/disk.img: no such file");
        assertThatThrownBy(() -> AhciFactory.checkCdrom("/")).hasMessage("ahci-cd: / is a directory");
        Path ro = Files.write(dir.resolve("ro.img"), new byte[4096]);
        assertThat(ro.toFile().setWritable(false)).isTrue();
        if (!Files.isWritable(ro)) { // root can write anyway
            assertThatThrownBy(() -> AhciFactory.checkDisk(ro.toString()))
                    .hasMessage("ahci-hd: " + ro + ": not writable (add ,ro for a read-only disk)");
        }
        AhciFactory.checkDisk(ro + ",ro");
        AhciFactory.checkCdrom(ro.toString());
        AhciFactory.checkMultiPort("hd:" + ro + ",ro,cd:" + ro);
        assertThatThrownBy(() -> AhciFactory.checkMultiPort("hd:" + ro + ",ro,cd:/no/x.iso")).hasMessage("ahci-cd: /no/x.iso: no such file");
    }

    @Test
    void theCatalogBuildsAnHbaPerSlotWithTheDrivesOnItsPorts() throws Exception {
        Path disk = Files.write(dir.resolve("disk.img"), new byte[64 << 10]);
        Path iso = Files.write(dir.resolve("x.iso"), new byte[4 * 2048]);
        DeviceCatalog catalog = DeviceCatalog.standard(java.util.Map.of());
        assertThat(catalog.find("ahci-hd")).isPresent();
        assertThat(catalog.find("ahci-cd")).isPresent();
        assertThat(catalog.find("ahci")).isPresent();
        try (TestMachine machine = new TestMachine()) {
            PciDevice hd = catalog.find("ahci-hd").orElseThrow().create(machine, new PciAddress(0, 3, 0), disk.toString());
            assertThat(hd).isInstanceOf(AhciHba.class).hasToString("ahci-hd@0:3:0 (AHCI, 1 port)");
            assertThat(((AhciHba) hd).port(0).device()).isInstanceOf(AtaDisk.class);
            assertThat(hd.configRead(PciFunctionOffsets.INTERRUPT_LINE, 1)).isEqualTo(19);
            ((AhciHba) hd).close();
            PciDevice both = catalog.find("ahci").orElseThrow().create(machine, new PciAddress(0, 4, 0), "hd:" + disk + ",ro,cd:" + iso);
            assertThat(((AhciHba) both).portCount()).isEqualTo(2);
            assertThat(((AhciHba) both).port(1).device()).isInstanceOf(AtapiCdrom.class);
            // The read-only disk holds a shared lock: a read-write HBA on it is refused...
            assertThatThrownBy(() -> catalog.find("ahci").orElseThrow().create(machine, new PciAddress(0, 5, 0), "cd:" + iso + ",hd:" + disk))
                    .isInstanceOf(DeviceConfigException.class).hasMessageContaining("in use by another process");
            ((AhciHba) both).close();
            // ...and has closed the image it had opened already: nothing holds a lock on it any more.
            org.jhyve.devices.block.FileBlockBackend.open(iso.toString(), false, false, false).close();
        }
    }

    /** PciFunction's offsets, without extending it. */
    private static final class PciFunctionOffsets {
        static final int INTERRUPT_LINE = org.jhyve.pci.PciFunction.INTERRUPT_LINE;
    }
}

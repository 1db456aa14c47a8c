package org.jhyve.devices;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jhyve.config.ConfigException;
import org.jhyve.config.ConfigNode;
import org.jhyve.config.ConfigTree;
import org.jhyve.devices.ahci.AhciDriveOptions;
import org.jhyve.devices.ahci.DriveKind;
import org.jhyve.devices.virtio.VirtioBlockOptions;
import org.jhyve.devices.virtio.VirtioNetOptions;
import org.jhyve.vm.DeviceConfigException;
import org.junit.jupiter.api.Test;

/**
 * Each emulation's {@code -s} string becomes bhyve's keys of its node, and the device reads its settings from the
 * node: the same settings whichever way the keys came (a string, a -k file, -o), and every key it knows read.
 */
class DeviceNodeSettingsTest {
    private static final DeviceCatalog CATALOG = DeviceCatalog.standard(Map.of());

    private static ConfigNode slot(Map<String, String> keys) {
        ConfigTree.Builder b = ConfigTree.builder();
        keys.forEach((k, v) -> b.set("pci.0.4.0." + k, v, "-o pci.0.4.0." + k + "=" + v));
        return b.build().node("pci.0.4.0");
    }

    @Test
    void optionStringsBecomeBhyvesKeys() {
        var net = CATALOG.lookup("virtio-net").orElseThrow();
        assertThat(net.legacyKeys("tap0,mac=02:00:00:00:00:01")).isEqualTo(Map.of("backend", "tap0", "mac", "02:00:00:00:00:01"));
        assertThat(net.legacyKeys("slirp,hostfwd=tcp::2222-:22,hostfwd=udp::53-:53"))
                .as("forwards join with ';', as bhyve's slirp takes them").isEqualTo(Map.of("backend", "slirp", "hostfwd", "tcp::2222-:22;udp::53-:53"));
        assertThat(net.legacyKeys("")).isEmpty();
        assertThat(CATALOG.lookup("virtio-blk").orElseThrow().legacyKeys("d.img,ro,sectorsize=4096,ser=X,num-queues=2"))
                .isEqualTo(Map.of("path", "d.img", "ro", "true", "sectorsize", "4096", "ser", "X", "num-queues", "2"));
        assertThat(CATALOG.lookup("ahci-cd").orElseThrow().legacyKeys("x.iso,nocache"))
                .isEqualTo(Map.of("port.0.type", "cd", "port.0.path", "x.iso", "port.0.nocache", "true"));
        assertThat(CATALOG.lookup("ahci").orElseThrow().legacyKeys("hd:a.img,ro,cd:x.iso"))
                .isEqualTo(Map.of("port.0.type", "hd", "port.0.path", "a.img", "port.0.ro", "true", "port.1.type", "cd", "port.1.path", "x.iso"));
        assertThatThrownBy(() -> CATALOG.lookup("hostbridge").orElseThrow().legacyKeys("x")).hasMessage("hostbridge takes no options: x");
    }

    @Test
    void aNodeGivesTheSameSettingsAsTheString() {
        assertThat(VirtioBlockOptions.from(slot(Map.of("path", "d.img", "ro", "yes", "sectorsize", "512/4096"))))
                .isEqualTo(VirtioBlockOptions.parse("d.img,ro,sectorsize=512/4096"));
        assertThat(VirtioBlockOptions.from(slot(Map.of("path", "d.img", "ro", "false"))).readOnly()).as("bhyve's booleans: ro=false is writable").isFalse();
        VirtioNetOptions net = VirtioNetOptions.from(slot(Map.of("backend", "slirp", "hostfwd", "tcp::2222-:22")));
        assertThat(net.backend()).isEqualTo(VirtioNetOptions.parse("slirp,hostfwd=tcp::2222-:22").backend());
        assertThat(VirtioNetOptions.from(slot(Map.of("backend", "mytap"))).backend()).isEqualTo(new VirtioNetOptions.Tap("mytap"));
        assertThat(AhciDriveOptions.ports("ahci", slot(Map.of("port.0.type", "hd", "port.0.path", "a.img", "port.1.type", "cd", "port.1.path", "x.iso"))))
                .isEqualTo(AhciDriveOptions.parsePorts("hd:a.img,cd:x.iso"));
        assertThat(AhciDriveOptions.ports("ahci-hd", slot(Map.of("port.0.path", "a.img")))).as("ahci-hd's port 0 is a disk unless typed")
                .containsExactly(AhciDriveOptions.parse(DriveKind.HD, "a.img"));
    }

    @Test
    void theDeviceReadsEveryKeyItKnows() {
        // A key the device reads but the tree does not record would be reported as unknown.
        ConfigNode node = slot(Map.ofEntries(Map.entry("path", "d.img"), Map.entry("ro", "1"), Map.entry("nocache", "1"),
                Map.entry("sync", "0"), Map.entry("direct", "0"), Map.entry("nodelete", "1"), Map.entry("sectorsize", "512"),
                Map.entry("ser", "A"), Map.entry("serial", "B"), Map.entry("num-queues", "2"), Map.entry("speed", "10")));
        VirtioBlockOptions.from(node);
        assertThat(node.tree().unread()).containsExactly("pci.0.4.0.speed");
        ConfigNode net = slot(Map.of("backend", "tap0", "mac", "02:00:00:00:00:01", "queues", "2", "mtu", "9000"));
        VirtioNetOptions.from(net);
        assertThat(net.tree().unread()).containsExactly("pci.0.4.0.mtu");
    }

    @Test
    void badValuesNameTheirFullKey() {
        assertThatThrownBy(() -> VirtioNetOptions.from(slot(Map.of("mac", "zz")))).isInstanceOf(ConfigException.class)
                .hasMessage("virtio-net: mac=zz is not a MAC address (xx:xx:xx:xx:xx:xx)")
                .extracting(e -> ((ConfigException) e).key()).isEqualTo("pci.0.4.0.mac");
        assertThatThrownBy(() -> VirtioBlockOptions.from(slot(Map.of("path", "d", "ro", "maybe"))))
                .hasMessage("pci.0.4.0.ro=maybe is not a boolean (true or false)");
        assertThatThrownBy(() -> VirtioNetOptions.from(slot(Map.of("backend", "tap0", "hostfwd", "tcp::1-:1"))))
                .extracting(e -> ((ConfigException) e).key()).isEqualTo("pci.0.4.0.hostfwd");
        assertThatThrownBy(() -> AhciDriveOptions.ports("ahci", slot(Map.of("port.0.path", "a.img"))))
                .hasMessage("ahci: pci.0.4.0.port.0.type is missing: hd (a disk) or cd (a CD-ROM)");
        assertThatThrownBy(() -> AhciDriveOptions.ports("ahci", slot(Map.of("port.0.type", "hd", "port.0.path", "a", "port.2.type", "hd", "port.2.path", "b"))))
                .hasMessage("ahci: port.2 without port.1: ports are numbered from 0 without gaps")
                .extracting(e -> ((ConfigException) e).key()).isEqualTo("pci.0.4.0.port.2");
        assertThatThrownBy(() -> AhciDriveOptions.ports("ahci", slot(Map.of("port.x.type", "hd"))))
                .hasMessage("ahci: pci.0.4.0.port.x: ports are port.0 to port.31");
        assertThatThrownBy(() -> AhciDriveOptions.ports("ahci", slot(Map.of()))).isInstanceOf(DeviceConfigException.class)
                .hasMessageStartingWith("ahci needs at least one port");
        assertThatThrownBy(() -> VirtioBlockOptions.from(slot(Map.of("ro", "1")))).isInstanceOf(DeviceConfigException.class)
                .hasMessage("virtio-blk needs a disk image path: -s SLOT,virtio-blk,PATH");
    }

    @Test
    void theStringApiStillThrowsDeviceConfigExceptions() {
        // Programs that pass option strings (VmBuilder.pci with find()'s factory) catch DeviceConfigException, as before.
        assertThatThrownBy(() -> CATALOG.lookup("virtio-net").orElseThrow().checkOptions("tap0,mac=zz")).isInstanceOf(DeviceConfigException.class)
                .hasMessage("virtio-net: mac=zz is not a MAC address (xx:xx:xx:xx:xx:xx)");
        assertThat(VirtioBlockOptions.parse("d.img,serial=S").serial()).isEqualTo(Optional.of("S"));
        assertThat(AhciDriveOptions.parsePorts("hd:a.img,cd:b.iso")).extracting(AhciDriveOptions::kind).isEqualTo(List.of(DriveKind.HD, DriveKind.CD));
    }
}

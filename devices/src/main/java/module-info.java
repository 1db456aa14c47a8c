/**
 * jhyve's device models. Exported: the catalog of standard devices, the serial console backends, the
 * PCI and platform devices every machine has, and the virtio transport and split virtqueue for writing
 * virtio devices of one's own. The block, network and AHCI back ends are implementation, so virtio-blk and
 * virtio-net are built only by their factories (the catalog's), never with a back end an embedder supplies.
 */
module org.jhyve.devices {
    requires transitive org.jhyve.core;
    requires org.jhyve.posix; // every libc call: serial ports' terminals and pipes, tap, disk images
    requires org.slf4j;
    requires io.netty.buffer;
    requires io.netty.common;
    requires io.netty.transport;
    requires io.netty.codec; // passt's stream protocol: a length before each frame
    requires io.netty.transport.classes.epoll;
    requires io.netty.transport.unix.common;

    exports org.jhyve.devices;
    exports org.jhyve.devices.pci;
    exports org.jhyve.devices.platform;
    exports org.jhyve.devices.uart;
    exports org.jhyve.devices.virtio;
}

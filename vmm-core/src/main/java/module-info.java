/**
 * jhyve's core: the VM API and the hypervisor SPI. Exported are the packages an embedder or a device
 * author programs against; the x86 instruction decoder, the GDB stub ({@code gdb}) and the VM's debugger
 * behind it ({@code vm.debug}) are how the VM works inside, and stay free to change. JFR event types are
 * exported only to the devices that emit them.
 */
module org.jhyve.core {
    requires org.slf4j;
    requires transitive jdk.jfr;
    requires jdk.net; // SO_PEERCRED: the GDB stub serves only jhyve's own user

    exports org.jhyve.boot;
    exports org.jhyve.bus;
    exports org.jhyve.config;
    exports org.jhyve.cpu;
    exports org.jhyve.hv;
    exports org.jhyve.irq;
    exports org.jhyve.memory;
    exports org.jhyve.pci;
    exports org.jhyve.trace;
    exports org.jhyve.vm;

    exports org.jhyve.jfr to org.jhyve.devices;
    exports org.jhyve.sockets to org.jhyve.devices;
}

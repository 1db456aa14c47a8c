/** The {@code jhyve} command: xhyve's flags, parsed by picocli, turned into a {@code VmBuilder}. */
module org.jhyve.cli {
    requires org.jhyve.core;
    requires org.jhyve.kvm;
    requires org.jhyve.devices;
    requires org.jhyve.firmware;
    requires info.picocli;
    requires org.slf4j;
    requires jdk.management;   // HostMemory: the host's free RAM, for -m's check
    requires jdk.unsupported;  // TerminationSignal: sun.misc.Signal, for SIGTERM/SIGINT as a power button

    // picocli fills the annotated option fields reflectively.
    opens org.jhyve.cli to info.picocli;
}

package org.jhyve.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * xhyve's flags as picocli sees them: raw strings and switches, nothing interpreted yet.
 * {@link MachineSpec#from} validates them into records.
 */
@Command(name = "jhyve", mixinStandardHelpOptions = false, separator = " ",
        synopsisHeading = "Usage: ", customSynopsis = "jhyve [-behuwxMACHPWY] [-c vcpus] [-F pidfile] [-g gdbport] [-l lpc] [-m mem] "
                + "[-p vcpu:hostcpu] [-s pci] [-U uuid] -f <fw>%n", usageHelpWidth = 160)
final class CommandLine {
    @Option(names = "-A", description = "create ACPI tables") boolean acpi;
    @Option(names = "-b", description = "enable bvmcons console") boolean bvmConsole;
    @Option(names = "-c", paramLabel = "vcpus", description = "# cpus (default 1)") String vcpus;
    @Option(names = "-C", description = "include guest memory in core file") boolean coreMemory;
    @Option(names = "-e", description = "exit on unhandled I/O access") boolean exitOnUnhandledIo;
    @Option(names = "-f", paramLabel = "fw", description = "firmware: kexec,KERNEL,INITRD,\"CMDLINE\"") String firmware;
    @Option(names = "-F", paramLabel = "pidfile", description = "pidfile") String pidFile;
    @Option(names = "-g", paramLabel = "gdbport", description = "gdb port: GDB remote stub on 127.0.0.1 (or unix:PATH, a 0600 Unix socket), for jhyve's user only; the guest waits for gdb to continue") String gdbPort;
    @Option(names = "-h", description = "help") boolean help;
    @Option(names = "-H", description = "vmexit from the guest on hlt") boolean exitOnHlt;
    @Option(names = "-l", paramLabel = "lpc", description = "LPC device configuration (com1|com2,BACKEND; -l help)") List<String> lpc = new ArrayList<>();
    @Option(names = "-m", paramLabel = "mem", description = "memory size in MB, may be suffixed with K, M, G or T (default 256)") String memory;
    @Option(names = "-M", description = "print MAC address and exit if using vmnet") boolean printMac;
    @Option(names = "-p", paramLabel = "vcpu:hostcpu", description = "pin 'vcpu' to 'hostcpu'") List<String> pins = new ArrayList<>();
    @Option(names = "-P", description = "vmexit from the guest on pause") boolean exitOnPause;
    @Option(names = "-s", paramLabel = "pci", description = "<slot,driver,configinfo> PCI slot config (-s help)") List<String> slots = new ArrayList<>();
    @Option(names = "-u", description = "RTC keeps UTC time") boolean rtcUtc;
    @Option(names = "-U", paramLabel = "uuid", description = "uuid") String uuid;
    @Option(names = "-v", description = "show build version") boolean version;
    @Option(names = "-w", description = "ignore unimplemented MSRs") boolean ignoreMsrs;
    @Option(names = "-W", description = "force virtio to use single-vector MSI") boolean singleMsi;
    @Option(names = "-x", description = "local apic is in x2APIC mode") boolean x2apic;
    @Option(names = "-Y", description = "disable MPtable generation") boolean noMpTable;
    @Option(names = "--cpu-template", paramLabel = "name", description = "jhyve: the guest's CPUID and Linux kernel parameters: host (KVM's CPUID as it is), pvm (for KVM without VMX/SVM) (default: chosen for this host; docs/cli.md)") String cpuTemplate;
    @Option(names = "--trace", paramLabel = "file", description = "jhyve: trace exits, device accesses and interrupts to file (docs/debugging.md)") String traceFile;
    @Option(names = "--trace-filter", paramLabel = "spec", description = "jhyve: what --trace records, e.g. pio,mmio;device=com1;range=0x3f8-0x3ff") String traceFilter;
}

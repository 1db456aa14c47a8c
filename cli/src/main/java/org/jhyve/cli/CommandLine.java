package org.jhyve.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * xhyve's and bhyve(8)'s flags as picocli sees them: raw strings and switches, nothing interpreted yet.
 * {@link CommandLineKeys} turns them into the configuration tree, which {@link MachineSpec#from} validates into records. The man page and the bash completion script are
 * generated from this class too ({@link ManPage}, {@link Completion}), so a flag added here appears in both.
 */
@Command(name = "jhyve", mixinStandardHelpOptions = false, separator = " ",
        synopsisHeading = "Usage: ", customSynopsis = {"jhyve [-behuwxACDHMPSWY] [-c [[cpus=]N][,sockets=S][,cores=C][,threads=T]]",
                "      [-F pidfile] [-g gdbport] [-G [w][bind:]port] [-l lpc] [-m mem]",
                "      [-p vcpu:hostcpu] [-s pci] [-U uuid] -f <fw> [vmname]"},
        usageHelpWidth = 160,
        description = "jhyve runs a virtual machine on Linux KVM, with xhyve's and bhyve(8)'s command line.",
        footerHeading = "%n", footer = {"-s help and -l help list each emulation and serial backend with its options.",
                "Exit status as bhyve's: 0 reset, 1 powered off, 2 halted, 3 triple fault, 4 error."})
final class CommandLine {
    @Option(names = "-A", description = "create ACPI tables") boolean acpi;
    @Option(names = "-a", description = "bhyve: local APIC in xAPIC mode (the default here; deprecated in bhyve)") boolean xapic;
    @Option(names = "-b", description = "enable bvmcons console") boolean bvmConsole;
    @Option(names = "-c", paramLabel = "vcpus", description = "# cpus (default 1), or bhyve's [[cpus=]N][,sockets=S][,cores=C][,threads=T]") String vcpus;
    @Option(names = "-C", description = "include guest memory in core file") boolean coreMemory;
    @Option(names = "-D", description = "bhyve: destroy on power-off (a jhyve VM never outlives its process: always so)") boolean destroyOnPowerOff;
    @Option(names = "-e", description = "exit on unhandled I/O access") boolean exitOnUnhandledIo;
    @Option(names = "-f", paramLabel = "fw", description = "firmware: kexec,KERNEL,INITRD,\"CMDLINE\"") String firmware;
    @Option(names = "-F", paramLabel = "pidfile", description = "pidfile") String pidFile;
    @Option(names = "-g", paramLabel = "gdbport", description = "gdb port: GDB remote stub on 127.0.0.1 (or unix:PATH, a 0600 Unix socket), for jhyve's user only; the guest waits for gdb to continue") String gdbPort;
    @Option(names = "-G", paramLabel = "[w][bind:]port", description = "bhyve's gdb flag: w waits for gdb before the vCPUs start (else gdb stops them when it attaches), bind 127.0.0.1 or localhost") String bhyveGdb;
    @Option(names = {"-h", "--help"}, description = "help: this text, then every emulation's and serial backend's option syntax") boolean help;
    @Option(names = "-H", description = "vmexit from the guest on hlt") boolean exitOnHlt;
    @Option(names = "-I", description = "bhyve: add an I/O APIC (deprecated in bhyve: there always is one, here too)") boolean ioapic;
    @Option(names = "-l", paramLabel = "lpc", description = "LPC device configuration (com1..com4,BACKEND, case-insensitive; -l help)") List<String> lpc = new ArrayList<>();
    @Option(names = "-m", paramLabel = "mem", description = "memory size: a bare number below 1048576 is MiB, from there bytes; suffixes K, M, G, T (default 256M)") String memory;
    @Option(names = "-M", description = "print each virtio-net device's MAC address and exit") boolean printMac;
    @Option(names = "-p", paramLabel = "vcpu:hostcpu", description = "pin 'vcpu' to 'hostcpu'") List<String> pins = new ArrayList<>();
    @Option(names = "-P", description = "vmexit from the guest on pause") boolean exitOnPause;
    @Option(names = "-s", paramLabel = "pci", description = "<slot,driver,configinfo> PCI slot config (-s help)") List<String> slots = new ArrayList<>();
    @Option(names = "-S", description = "guest memory cannot be swapped (mlock; RLIMIT_MEMLOCK must allow it)") boolean wiredMemory;
    @Option(names = "-u", description = "RTC keeps UTC time") boolean rtcUtc;
    @Option(names = "-U", paramLabel = "uuid", description = "uuid") String uuid;
    @Option(names = {"-v", "--version"}, description = "show build version") boolean version;
    @Option(names = "-w", description = "ignore unimplemented MSRs") boolean ignoreMsrs;
    @Option(names = "-W", description = "force virtio to use single-vector MSI") boolean singleMsi;
    @Option(names = "-x", description = "local apic is in x2APIC mode") boolean x2apic;
    @Option(names = "-Y", description = "disable MPtable generation") boolean noMpTable;
    @Option(names = "-k", paramLabel = "config_file", description = "bhyve: read configuration keys from a file of key=value lines (# comments); after the flags, before -o (docs/cli.md)") List<String> configFiles = new ArrayList<>();
    @Option(names = "-o", paramLabel = "key=value", description = "bhyve: set a configuration key, e.g. memory.size=1G or pci.0.2.0.mac=...; last wins; -o config.dump=1 prints the configuration and exits") List<String> configValues = new ArrayList<>();
    @Option(names = "-K", paramLabel = "layout", description = "bhyve: PS/2 keyboard layout (not supported: no PS/2 keyboard)") String keyboardLayout;
    @Option(names = "-r", paramLabel = "file", description = "bhyve: restore from a checkpoint file (not supported)") String restoreFile;
    @Option(names = "--cpu-template", paramLabel = "name", description = "jhyve: the guest's CPUID and Linux kernel parameters: host (KVM's CPUID as it is), pvm (for KVM without VMX/SVM) (default: chosen for this host; docs/cli.md)") String cpuTemplate;
    @Option(names = "--irqchip", paramLabel = "where", description = "jhyve: who emulates the interrupt controllers and timers: kernel (KVM's in-kernel irqchip, the default) or userspace (jhyve's own LAPIC, IOAPIC, PIC, PIT and RTC, as on Hypervisor.framework; docs/cli.md)") String irqchip;
    @Option(names = "--mmio-cross-check", description = "jhyve: decode every MMIO exit again with jhyve's own instruction emulator and compare it with KVM's decoding; mismatches and the totals go to stderr (docs/debugging.md)") boolean mmioCrossCheck;
    @Option(names = "--trace", paramLabel = "file", description = "jhyve: trace exits, device accesses and interrupts to file (docs/debugging.md)") String traceFile;
    @Option(names = "--trace-filter", paramLabel = "spec", description = "jhyve: what --trace records, e.g. pio,mmio;device=com1;range=0x3f8-0x3ff") String traceFilter;
    @Parameters(index = "0", arity = "0..1", paramLabel = "vmname", description = "bhyve's VM name: in jhyve's stderr lines, the main thread's name in log lines and the process name (ps -o comm)") String vmName;
}

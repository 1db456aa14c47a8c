package org.jhyve.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.concurrent.atomic.AtomicReference;
import org.jhyve.boot.BootException;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.devices.pci.LpcBridge;
import org.jhyve.devices.uart.SerialBackends;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.HypervisorException;
import org.jhyve.kvm.KvmHypervisor;
import org.jhyve.vm.DeviceConfigException;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VirtualMachine;
import org.jhyve.vm.VmOutcome;

/**
 * The {@code jhyve} command. Exit status as bhyve's: 0 the guest reset, 1 it powered off, 2 it halted,
 * 3 triple fault, 4 an error of jhyve's own (bad input among them: one line on stderr naming the flag).
 * Whatever goes wrong inside jhyve, an exception it did not expect included, is status 4 with one line,
 * never the JVM's status 1 for an uncaught exception (which would read as "the guest powered off").
 */
public final class Main {
    static final String VERSION = "jhyve 0.1.0";
    private static final int ERROR = ExitStatus.ERROR.code();

    /**
     * What the command does once the command line is valid: boot the VM it describes and wait for it.
     * A test or fuzz target passes its own (for instance {@code (spec, err) -> 0}), so that random argv that
     * happens to describe a valid VM is checked in full but never boots a guest, opens the disks, sockets
     * or pid file it names, or reads stdin for a serial port: validation before this step has no side
     * effects and reads no file but the host's memory size.
     */
    @FunctionalInterface
    interface Launch {
        int launch(MachineSpec spec, PrintStream err);
    }

    private Main() {}

    public static void main(String[] args) {
        UncaughtFailures failures = new UncaughtFailures();
        Thread.setDefaultUncaughtExceptionHandler(failures);
        int status;
        try {
            status = run(args, System.out, System.err, (spec, err) -> boot(spec, err, failures));
        } catch (Throwable e) {
            // run() catches everything; this is for an Error thrown again while it reported one (memory still short).
            status = ERROR;
        }
        if (status != ERROR && failures.first().isPresent()) {
            System.err.println("jhyve: " + failures.first().get());
            status = ERROR;
        }
        System.exit(status);
    }

    /** Runs the command without exiting the JVM; returns the exit status and never throws. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, (spec, e) -> boot(spec, e, new UncaughtFailures()));
    }

    /**
     * {@link #run(String[], PrintStream, PrintStream)} with {@code launch} in place of booting: the hook for
     * tests and fuzz targets (see {@link Launch}). Returns a status for any {@code args}, and never throws
     * (an exception jhyve did not expect, from {@code launch} too, is status 4 and one line on {@code err}).
     */
    static int run(String[] args, PrintStream out, PrintStream err, Launch launch) {
        try {
            return parseAndLaunch(args, out, err, launch);
        } catch (OutOfMemoryError e) {
            err.println("jhyve: out of memory: " + Failures.firstLine(e.getMessage()) + " (java -Xmx sets the heap's size)");
            return ERROR;
        } catch (Throwable e) {
            err.println("jhyve: unexpected " + Failures.describe(e));
            return ERROR;
        }
    }

    private static int parseAndLaunch(String[] args, PrintStream out, PrintStream err, Launch launch) {
        // The plain lines without picocli (FlagScanner says why); picocli reads the rest, and has the messages.
        CommandLine flags = FlagScanner.scan(args).orElse(null);
        if (flags == null) {
            flags = PicocliFlags.parse(args, err);
            if (flags == null) return ERROR;
        }
        if (flags.help) {
            out.print(PicocliFlags.usage());
            out.println();
            printEmulations(out);
            out.println();
            printLpcDevices(out);
            return 0;
        }
        if (flags.version) {
            out.println(VERSION);
            return 0;
        }
        if (flags.slots.contains("help")) {
            printEmulations(out);
            return 0;
        }
        if (flags.lpc.contains("help")) {
            printLpcDevices(out);
            return 0;
        }
        MachineSpec spec;
        try {
            spec = MachineSpec.from(flags, DeviceCatalog.standard(java.util.Map.of()), HostMemory.total());
        } catch (UsageException e) {
            err.println("jhyve: " + e.getMessage());
            return ERROR;
        }
        if (spec.dumpConfig()) {
            // bhyve's config.dump: the tree as key=value lines, which -k reads back as the same VM. Not the key
            // itself, or -k of the dump would dump again rather than run.
            out.print(spec.config().without("config.dump").dump());
            return 0;
        }
        if (spec.printMac()) {
            List<String> macs;
            try {
                macs = MacAddresses.of(spec);
            } catch (DeviceConfigException e) {
                err.println("jhyve: " + oneLine(e.getMessage()));
                return ERROR;
            } catch (org.jhyve.config.ConfigException e) {
                err.println("jhyve: " + spec.origin(e.key()) + ": " + oneLine(e.getMessage()));
                return ERROR;
            }
            // xhyve's -M: print the MAC and exit, when there is a network device; without one it has no effect.
            if (!macs.isEmpty()) {
                macs.forEach(mac -> out.println("MAC: " + mac));
                return 0;
            }
        }
        return launch.launch(spec, err);
    }

    /** Each emulation with its option syntax: -s help, and -h after the flags. */
    private static void printEmulations(PrintStream out) {
        out.println("PCI emulations, as -s slot[:func],EMULATION[,conf]:");
        for (DeviceCatalog.Emulation e : DeviceCatalog.standard(java.util.Map.of()).emulations()) {
            out.printf("  %-15s %s%n", e.name(), e.description());
        }
    }

    /** The COM ports and serial backends with their syntax: -l help, and -h after the emulations. */
    private static void printLpcDevices(PrintStream out) {
        out.println("LPC devices: " + LpcBridge.COM_PORTS.stream()
                .map(p -> String.format("%s (port 0x%x, IRQ %d)", p.name(), p.base(), p.irq())).collect(Collectors.joining(", "))
                + "; as -l comN,BACKEND (comN in any case) with BACKEND one of:");
        SerialBackends.describe().forEach(line -> out.println("  " + line));
        out.println("Test devices (QEMU's, for kvm-unit-tests; docs/devices.md):");
        out.println("  pc-testdev                              QEMU's pc-testdev (ports 0xe0, 0xe4, 0xe8, 0x2000-0x2017; MMIO 0xff000000)");
        out.println("  isa-debug-exit[,iobase=N][,iosize=N]    a guest write of v exits jhyve with status (v << 1) | 1 (default 0xf4, 4 ports)");
        out.println("  fwcfg,qemu                              QEMU's fw_cfg legacy ports 0x510-0x511 (CPU count, RAM size)");
    }

    private static int boot(MachineSpec spec, PrintStream err, UncaughtFailures failures) {
        // bhyve's vmname: in jhyve's own lines ("jhyve vm1: ..."), the main thread's name (slf4j's log lines show it) and the process name.
        String me = spec.vmName().map(name -> "jhyve " + name + ": ").orElse("jhyve: ");
        spec.vmName().ifPresent(ProcessName::set);
        Hypervisor hypervisor;
        try {
            hypervisor = KvmHypervisor.open();
        } catch (HypervisorException e) {
            err.println(me + "/dev/kvm: " + oneLine(e.getMessage()));
            return ERROR;
        }
        AtomicReference<VirtualMachine> running = new AtomicReference<>();
        // On SIGINT (and a SIGTERM that ends the JVM) shutdown hooks run: stop the guest, release the terminal and devices.
        Thread onSignal = new Thread(() -> Optional.ofNullable(running.get()).ifPresent(VirtualMachine::close), "jhyve-shutdown");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try (hypervisor; PidFile pid = spec.pidFile().isPresent() ? new PidFile(spec.pidFile().get()) : null) {
            try (VirtualMachine vm = VmAssembler.build(spec, hypervisor)) {
                running.set(vm);
                TerminationSignal.install(vm);
                vm.start();
                failures.running(vm);
                vm.gdbAddress().ifPresent(a -> err.println(me + spec.gdb().orElseThrow().listening(a)));
                VmOutcome outcome = vm.await();
                if (outcome == null) {
                    err.println(me + "the VM's vCPU threads ended without saying why");
                    return ERROR;
                }
                if (outcome.status() == ExitStatus.ERROR) err.println(me + oneLine(outcome.reason()));
                return outcome.exitCode();
            } finally {
                failures.ended();
            }
        } catch (UsageException e) {
            err.println(me + e.getMessage());
            return ERROR;
        } catch (BootException e) {
            err.println(me + spec.origin(FirmwareSpec.KERNEL) + ": " + oneLine(e.getMessage()));
            return ERROR;
        } catch (org.jhyve.config.ConfigException e) {
            err.println(me + spec.origin(e.key()) + ": " + oneLine(e.getMessage()));
            return ERROR;
        } catch (DeviceConfigException | HypervisorException | IllegalArgumentException e) {
            err.println(me + oneLine(e.getMessage()));
            return ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println(me + "interrupted");
            return ERROR;
        } finally {
            running.set(null);
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook is running or has run.
            }
        }
    }

    private static String oneLine(String message) {
        return Failures.firstLine(message);
    }
}

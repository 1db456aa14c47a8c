package org.jhyve.cli;

import java.io.PrintStream;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.jhyve.boot.BootException;
import org.jhyve.devices.DeviceCatalog;
import org.jhyve.devices.uart.SerialBackends;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.HypervisorException;
import org.jhyve.kvm.KvmHypervisor;
import org.jhyve.vm.DeviceConfigException;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VirtualMachine;
import org.jhyve.vm.VmOutcome;
import picocli.CommandLine.ParameterException;

/**
 * The {@code jhyve} command. Exit status as bhyve's: 0 the guest reset, 1 it powered off, 2 it halted,
 * 3 triple fault, 4 an error of jhyve's own (bad input among them: one line on stderr naming the flag).
 */
public final class Main {
    static final String VERSION = "jhyve 0.1.0";
    private static final int ERROR = ExitStatus.ERROR.code();

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command without exiting the JVM; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine flags = new CommandLine();
        picocli.CommandLine parser = new picocli.CommandLine(flags);
        try {
            parser.parseArgs(args);
        } catch (picocli.CommandLine.UnmatchedArgumentException e) {
            String first = e.getUnmatched().getFirst();
            err.println("jhyve: " + first + (first.startsWith("-") ? ": unknown flag (see -h)" : ": unexpected argument"));
            return ERROR;
        } catch (ParameterException e) {
            err.println("jhyve: " + oneLine(e.getMessage()));
            return ERROR;
        }
        if (flags.help) {
            out.print(parser.getUsageMessage());
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
            out.println("LPC devices: com1 (port 0x3f8, IRQ 4), com2 (port 0x2f8, IRQ 3); as -l comN,BACKEND with BACKEND one of:");
            SerialBackends.describe().forEach(line -> out.println("  " + line));
            return 0;
        }
        MachineSpec spec;
        try {
            spec = MachineSpec.from(flags, DeviceCatalog.standard(java.util.Map.of()), HostMemory.total());
        } catch (UsageException e) {
            err.println("jhyve: " + e.getMessage());
            return ERROR;
        }
        return boot(spec, err);
    }

    private static void printEmulations(PrintStream out) {
        out.println("PCI emulations, as -s slot[:func],EMULATION[,conf]:");
        for (DeviceCatalog.Emulation e : DeviceCatalog.standard(java.util.Map.of()).emulations()) {
            out.printf("  %-15s %s%n", e.name(), e.description());
        }
    }

    private static int boot(MachineSpec spec, PrintStream err) {
        Hypervisor hypervisor;
        try {
            hypervisor = KvmHypervisor.open();
        } catch (HypervisorException e) {
            err.println("jhyve: /dev/kvm: " + oneLine(e.getMessage()));
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
                vm.gdbAddress().ifPresent(a -> err.printf("jhyve: waiting for gdb on %s:%d (target remote :%d); the guest starts when gdb continues%n",
                        a.getAddress().getHostAddress(), a.getPort(), a.getPort()));
                VmOutcome outcome = vm.await();
                if (outcome.status() == ExitStatus.ERROR) err.println("jhyve: " + oneLine(outcome.reason()));
                return outcome.status().code();
            }
        } catch (UsageException e) {
            err.println("jhyve: " + e.getMessage());
            return ERROR;
        } catch (BootException e) {
            err.println("jhyve: " + spec.firmware().flag() + ": " + oneLine(e.getMessage()));
            return ERROR;
        } catch (DeviceConfigException | HypervisorException | IllegalArgumentException e) {
            err.println("jhyve: " + oneLine(e.getMessage()));
            return ERROR;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("jhyve: interrupted");
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
        if (message == null) return "unknown error";
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).strip();
    }
}

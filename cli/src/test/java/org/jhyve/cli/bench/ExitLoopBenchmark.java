package org.jhyve.cli.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jhyve.devices.platform.AcpiPowerManagement;
import org.jhyve.firmware.KexecLoader;
import org.jhyve.firmware.LowMemoryMap;
import org.jhyve.hv.Hypervisor;
import org.jhyve.kvm.KvmHypervisor;
import org.jhyve.trace.TraceConfig;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.VirtualMachine;
import org.jhyve.vm.VmBuilder;
import org.jhyve.vm.VmOutcome;

/**
 * The Java half of {@code scripts/bench-exits}: runs the guests' exit-loop.bin (N port-IO exits, then
 * an ACPI power-off) through jhyve's real path — {@link VmBuilder}, {@link VirtualMachine} and its vCPU
 * loop on KVM, {@link KexecLoader}, the devices module's ACPI power management — and times each VM from
 * {@code start()} to {@code await()}.
 *
 * <pre>usage: ExitLoopBenchmark [--image FILE] [--trace FILE] [--instant] [--repeat R] [--warmup N] COUNT...</pre>
 * With {@code --trace FILE} every VM traces everything (each exit and port access a line) to FILE: what
 * tracing costs when it is on. With {@code --instant} the VMs run on {@link InstantExitHypervisor}, whose
 * exits cost nothing: what is timed is jhyve's own work per exit (and no /dev/kvm is needed).
 * One VM is run first with the warm-up count (so the JIT has compiled the exit path), then every COUNT
 * R times. Prints one line per timed run on stdout, "result impl=jhyve exits=COUNT nanos=T", which the
 * script parses. Exits with 77 (the automake "skipped" code) when KVM cannot be used here.
 *
 * <p>A benchmark, not part of the {@code jhyve} jar: it lives in cli's test sources, next to its instrument,
 * and the script runs it on cli's and vmm-core's test classes ahead of the jar.
 */
public final class ExitLoopBenchmark {
    /** Guest RAM; the C baseline uses the same. */
    static final long MEMORY = 16L << 20;
    static final int SKIPPED = 77;

    record Options(Optional<Path> image, Optional<Path> trace, boolean instant, int repeat, int warmup, List<Integer> counts) {}

    private ExitLoopBenchmark() {}

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("ExitLoopBenchmark: " + e.getMessage());
            System.err.println("usage: ExitLoopBenchmark [--image FILE] [--trace FILE] [--instant] [--repeat R] [--warmup N] COUNT...");
            System.exit(2);
            return;
        }
        Optional<String> unavailable = options.instant() ? Optional.empty() : KvmHypervisor.unavailableReason();
        if (unavailable.isPresent()) {
            System.err.println("ExitLoopBenchmark: skipped: " + unavailable.get());
            System.exit(SKIPPED);
        }
        try (ExitLoopImage image = ExitLoopImage.locate(options.image());
             Hypervisor kvm = options.instant() ? InstantExitHypervisor.create() : KvmHypervisor.open()) {
            if (options.warmup() > 0) runOnce(kvm, image.path(), options.trace(), options.warmup());
            for (int r = 0; r < options.repeat(); r++) {
                for (int count : options.counts()) {
                    System.out.printf("result impl=jhyve exits=%d nanos=%d%n", count, runOnce(kvm, image.path(), options.trace(), count));
                }
            }
        }
    }

    /** Builds a VM for one run, puts the count where exit-loop.bin reads it, and times the guest's life. */
    static long runOnce(Hypervisor hypervisor, Path image, Optional<Path> trace, int exits) throws InterruptedException {
        VmBuilder builder = VmBuilder.on(hypervisor).memory(MEMORY).vcpus(1)
                .boot(KexecLoader.of(image))
                .platform(new AcpiPowerManagement());
        trace.ifPresent(file -> builder.trace(TraceConfig.everything(file)));
        try (VirtualMachine vm = builder.build()) {
            vm.memory().writeInt(LowMemoryMap.PARAMETERS, exits);
            long start = System.nanoTime();
            vm.start();
            VmOutcome outcome = vm.await();
            long nanos = System.nanoTime() - start;
            if (outcome.status() != ExitStatus.POWER_OFF) {
                throw new IllegalStateException("the exit loop did not power off: " + outcome);
            }
            return nanos;
        }
    }

    static Options parse(String[] args) {
        Optional<Path> image = Optional.empty(), trace = Optional.empty();
        boolean instant = false;
        int repeat = 5;
        int warmup = 20_000;
        List<Integer> counts = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--image" -> image = Optional.of(Path.of(value(args, ++i, "--image")));
                case "--trace" -> trace = Optional.of(Path.of(value(args, ++i, "--trace")));
                case "--instant" -> instant = true;
                case "--repeat" -> repeat = number(value(args, ++i, "--repeat"), 1);
                case "--warmup" -> warmup = number(value(args, ++i, "--warmup"), 0);
                default -> counts.add(number(args[i], 0));
            }
        }
        if (counts.isEmpty()) throw new IllegalArgumentException("give at least one exit count");
        return new Options(image, trace, instant, repeat, warmup, List.copyOf(counts));
    }

    private static String value(String[] args, int at, String option) {
        if (at >= args.length) throw new IllegalArgumentException(option + " needs a value");
        return args[at];
    }

    private static int number(String text, int min) {
        try {
            int n = Integer.parseInt(text.replace("_", ""));
            if (n < min) throw new IllegalArgumentException("expected a number of at least " + min + ": " + text);
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: " + text);
        }
    }
}

package org.jhyve.kvm;

import static org.jhyve.kvm.Guests.DONE_PORT;
import static org.jhyve.kvm.Guests.MIB;
import static org.jhyve.kvm.Guests.bytes;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jhyve.hv.VmExit;
import org.jhyve.hv.VmSpec;

/**
 * What one port-IO exit costs through {@code KVM_RUN} and back in Java alone, with no VM of jhyve's around it:
 * a real-mode guest loops on {@code out 0xf4, al}, and each {@link KvmVcpu#run()} returns its exit. A side of
 * {@code scripts/bench-exits}, between the C VMM (raw ioctls) and jhyve's whole path: what FFM and the KVM
 * backend cost, apart from the vCPU loop and the buses. A benchmark, not a test: it measures, and checks only
 * that every exit is the guest's {@code out}.
 *
 * <pre>usage: PortIoExitCost [--warmup N] COUNT...</pre>
 * One VM: the warm-up exits first (the JIT compiles the path), then COUNT exits for each COUNT, each run
 * printed on stdout as "result impl=kvm-run exits=COUNT nanos=T". Exits with 77 (the automake "skipped"
 * code) when KVM cannot be used here, 2 for a bad argument.
 */
final class PortIoExitCost {
    private static final int SKIPPED = 77;

    private PortIoExitCost() {}

    public static void main(String[] args) {
        int warmup = 20_000;
        List<Integer> counts = new ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--warmup") && i + 1 < args.length) warmup = Integer.parseInt(args[++i]);
                else counts.add(Integer.parseInt(args[i]));
            }
            if (counts.isEmpty() || warmup < 0 || counts.stream().anyMatch(c -> c < 1)) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            System.err.println("usage: PortIoExitCost [--warmup N] COUNT...   (COUNT at least 1)");
            System.exit(2);
            return;
        }
        Optional<String> unavailable = KvmHypervisor.unavailableReason();
        if (unavailable.isPresent()) {
            System.err.println("PortIoExitCost: skipped: " + unavailable.get());
            System.exit(SKIPPED);
        }
        try (KvmHypervisor kvm = KvmHypervisor.open(); KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1));
             KvmVcpu cpu = vm.createVcpu(0)) {
            Guests.realMode(vm, cpu, bytes(0xe6, DONE_PORT, 0xeb, 0xfc)); // again: out 0xf4, al; jmp again
            loop(cpu, warmup);
            for (int count : counts) {
                long start = System.nanoTime();
                loop(cpu, count);
                System.out.printf("result impl=kvm-run exits=%d nanos=%d%n", count, System.nanoTime() - start);
            }
        }
    }

    private static void loop(KvmVcpu cpu, int n) {
        for (int i = 0; i < n; i++) {
            VmExit exit = cpu.run();
            if (!(exit instanceof VmExit.PortIo io) || io.port() != DONE_PORT) {
                throw new IllegalStateException("exit " + i + " is not the guest's out to port 0x" + Integer.toHexString(DONE_PORT) + ": " + exit);
            }
        }
    }
}

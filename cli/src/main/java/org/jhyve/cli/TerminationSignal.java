package org.jhyve.cli;

import java.util.concurrent.atomic.AtomicInteger;
import org.jhyve.vm.VirtualMachine;
import sun.misc.Signal;

/**
 * SIGTERM as bhyve treats it: the first asks the guest to power off through its ACPI power button (a
 * guest that does not listen is stopped at once); a second one stops the VM without waiting.
 * {@code sun.misc.Signal} (module jdk.unsupported) is the JDK's supported way to catch a signal.
 */
final class TerminationSignal {
    private TerminationSignal() {}

    static void install(VirtualMachine vm) {
        AtomicInteger count = new AtomicInteger();
        Signal.handle(new Signal("TERM"), signal -> {
            if (count.incrementAndGet() == 1) vm.requestPowerOff();
            else vm.stop();
        });
    }
}

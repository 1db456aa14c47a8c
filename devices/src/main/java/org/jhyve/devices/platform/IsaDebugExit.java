package org.jhyve.devices.platform;

import org.jhyve.bus.BusDevice;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PlatformDevice;

/**
 * QEMU's {@code isa-debug-exit}: a guest write of {@code v} to any of its ports ends the VM, and the
 * {@code jhyve} process exits with status {@code (v << 1) | 1} (kept to its low 8 bits, as a process status
 * is), exactly as QEMU does. Test suites (kvm-unit-tests) end this way with their own verdict; the codes
 * deliberately differ from bhyve's (0 reset, 1 power-off...): status 1 means the guest wrote 0, so a
 * suite's success is 1, never 0. Reads return 0.
 *
 * <p>Threads: stateless; any vCPU may write at once, and the machine keeps the first exit.
 *
 * @param ioBase the first port (QEMU's default 0x501; kvm-unit-tests use 0xf4)
 * @param ioSize how many ports (1, 2 or 4)
 */
public record IsaDebugExit(int ioBase, int ioSize) implements PlatformDevice {
    public static final int KVM_UNIT_TESTS_BASE = 0xf4;
    public static final int KVM_UNIT_TESTS_SIZE = 4;

    public IsaDebugExit {
        if (ioSize != 1 && ioSize != 2 && ioSize != 4) throw new IllegalArgumentException("iosize must be 1, 2 or 4: " + ioSize);
        if (ioBase < 0 || ioBase + ioSize > 0x10000) throw new IllegalArgumentException(String.format("iobase 0x%x is not a port (0-0xffff)", ioBase));
    }

    /** The ports kvm-unit-tests write: 0xf4, 4 of them. */
    public static IsaDebugExit forKvmUnitTests() {
        return new IsaDebugExit(KVM_UNIT_TESTS_BASE, KVM_UNIT_TESTS_SIZE);
    }

    /** The process status for a written value: QEMU's {@code (v << 1) | 1}, as the host's exit(3) keeps it. */
    public static int exitStatus(long value) {
        return (int) ((value << 1) | 1) & 0xff;
    }

    @Override
    public void install(MachineContext machine) {
        machine.ioPorts().register(ioBase, ioSize, "isa-debug-exit", new BusDevice() {
            @Override public long read(long offset, int size) { return 0; }

            @Override
            public void write(long offset, int size, long value) {
                int status = exitStatus(value);
                machine.requestExit(ExitStatus.POWER_OFF, status, String.format(
                        "the guest wrote 0x%x to isa-debug-exit (port 0x%x): exit status %d", value, ioBase + offset, status));
            }
        });
    }
}

package org.jhyve.devices.virtio;

import static org.jhyve.devices.virtio.CommonConfig.*;
import static org.jhyve.devices.virtio.VirtioPciLayout.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;
import org.jhyve.devices.fuzz.CheckingBlockBackend;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMachine;
import org.jhyve.fuzz.FuzzMemory;
import org.jhyve.fuzz.StepBudgetExceeded;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciFunction;
import org.slf4j.event.Level;

/**
 * Fuzz target for the virtio PCI transport (docs/reliability.md): a driver's sequence of common-configuration
 * writes and reads of any width, feature negotiation and queue set-up (by hand or as Linux does it), status
 * writes (reset included) while the device's queue workers are busy with kicked requests, ISR and device
 * configuration reads, MSI-X table writes, and configuration-space writes including the PCI_CFG access window,
 * on a two-queue virtio-blk whose requests come from a RAM image the input gives (the layout of
 * {@link VirtqueueFuzzing.Setup}'s fixed rings for queue 0, the same 0x2000 higher for queue 1).
 *
 * <p>Input: [0] flags (bit 0 the set-up macro negotiates EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 MSI-X on, bit 3 every MSI refused as by a failing host), [1]
 * operations (mod 48) of 6 bytes each (see {@link #apply}), then the RAM image.
 *
 * <p>Documented exceptions: none reach the vCPU. Asserted: every access returns; a reset (status 0) leaves
 * status 0 and stops the device: once it has returned, no guest memory is touched any more (checked after
 * the last operation, and after every reset the input makes); no queue worker fails with a device error and
 * no warn/error line carries an exception; the backend contract holds; no access outside guest RAM (the
 * queues check every range); the step budget holds.
 */
class VirtioPciTransportFuzzTest {
    private static final PciAddress SLOT = new PciAddress(0, 4, 0);
    private static final int QUEUE_STRIDE = 0x2000;
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.FINDING, new Findings("virtio-pci"),
            VirtioBlockFuzzTest.BUDGET, 0, VirtioBlockFuzzTest.LOW, VirtioBlockFuzzTest.HIGH_BASE, VirtioBlockFuzzTest.HIGH);

    @FuzzTest(maxDuration = "10s")
    void registers(byte[] input) throws Exception {
        Findings findings = new Findings("virtio-pci");
        FuzzMemory memory = MEMORY;
        memory.arm(findings, VirtioBlockFuzzTest.BUDGET);
        int ops = input.length > 1 ? (input[1] & 0xff) % 48 : 0;
        byte[] in = Arrays.copyOf(input, Math.max(input.length, 2 + 6 * ops));
        int flags = in[0] & 0xff;
        boolean msiFails = (flags & 8) != 0;
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> !FuzzMachine.injected(e) && (e.thrown() != null || e.level() == Level.ERROR));
             FuzzMachine machine = new FuzzMachine(memory, n -> msiFails)) {
            memory.load(Arrays.copyOfRange(in, 2 + 6 * ops, in.length));
            CheckingBlockBackend disk = new CheckingBlockBackend(VirtioBlockFuzzTest.DISK, false, memory, findings, n -> false);
            VirtioPciTransport transport = new VirtioPciTransport("fuzz-vblk",
                    new VirtioBlock("fuzz-vblk", disk, VirtioBlockOptions.parse("fuzz.img,num-queues=2")), machine, machine.irq(20), 20);
            machine.pci().add(SLOT, transport);
            Driver driver = new Driver(transport, machine, memory, findings, flags);
            driver.cfg(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
            try {
                for (int i = 0; i < ops; i++) {
                    int at = 2 + 6 * i;
                    long value = (in[at + 2] & 0xff) | (in[at + 3] & 0xff) << 8 | (in[at + 4] & 0xff) << 16 | (long) (in[at + 5] & 0xff) << 24;
                    apply(driver, in[at] & 0xff, in[at + 1] & 0xff, value);
                }
                driver.resetAndCheckQuiet();
            } catch (StepBudgetExceeded e) {
                // Recorded by the memory.
            } finally {
                transport.close();
            }
        } finally {
            findings.throwIfAny();
        }
    }

    /**
     * One driver operation: 0 a common-configuration write (selector: offset, width in bits 6-7), 1 a read
     * anywhere in BAR0's first 0x3000 bytes, 2 the set-up as Linux does it (value: feature bits kept, queue 0's
     * size, whether queue 1 too), 3 a notify of queue (selector mod 3: queue 2 does not exist), 4 a status write
     * (value's low byte; 0 is a reset, checked), 5 an MSI-X table write, 6 a configuration-space write (the
     * PCI_CFG window included), 7 a pause of up to 255 µs, so that workers run between operations.
     */
    static void apply(Driver d, int op, int selector, long value) {
        int[] widths = {1, 2, 4, 8};
        switch (op % 8) {
            case 0 -> d.write(COMMON + selector % CommonConfig.LENGTH, widths[selector >>> 6], value);
            case 1 -> d.read(selector * 48L % NOTIFY, widths[selector >>> 6]);
            case 2 -> d.setUp(value);
            case 3 -> d.write(NOTIFY + 4L * (selector % 3), 2, selector % 3);
            case 4 -> d.status((int) value & 0xff);
            case 5 -> d.write(MSIX_TABLE + 4L * (selector % 24), 4, value);
            case 6 -> d.cfg(selector, widths[(int) (value >>> 30)] == 8 ? 4 : widths[(int) (value >>> 30)], (int) value);
            default -> LockSupport.parkNanos(1000L * selector);
        }
    }

    /** The driver side, through the machine's buses. */
    static final class Driver {
        final VirtioPciTransport transport;
        final FuzzMachine machine;
        final FuzzMemory memory;
        final Findings findings;
        final int flags;
        /** Where the bus put BAR0; the guest may move it (or turn decoding off), see {@link #bar0()}. */
        final long assignedBar0;
        /** Where the MSI-X capability is, found as a driver finds it. */
        final int msixCap;

        Driver(VirtioPciTransport transport, FuzzMachine machine, FuzzMemory memory, Findings findings, int flags) {
            this.transport = transport;
            this.machine = machine;
            this.memory = memory;
            this.findings = findings;
            this.flags = flags;
            this.assignedBar0 = transport.barAddress(0);
            int msix = -1;
            for (int cap = cfgRead(PciFunction.CAPABILITIES_POINTER, 1), hops = 0; cap != 0 && hops < 48; cap = cfgRead(cap + 1, 1), hops++) {
                if (cfgRead(cap, 1) == 0x11) msix = cap;
            }
            this.msixCap = msix;
        }

        int cfgRead(int offset, int size) { return machine.pci().configRead(0, SLOT.slot(), 0, offset, size); }

        void cfg(int offset, int size, int value) {
            int at = offset & ~(size - 1) & 0xff;
            machine.pci().configWrite(0, SLOT.slot(), 0, at, size, value);
        }

        /** BAR0 where the guest has it now. */
        long bar0() { return transport.barAddress(0); }

        long read(long offset, int size) { return machine.mmio().read(bar0() + offset, size); }

        void write(long offset, int size, long value) {
            if (offset == COMMON + DEVICE_STATUS && (value & 0xff) == 0) {
                resetAndCheckQuiet();
                return;
            }
            machine.mmio().write(bar0() + offset, size, value);
        }

        void status(int value) {
            write(COMMON + DEVICE_STATUS, 1, value);
        }

        /** Linux's virtio_pci probe: reset, ACK, DRIVER, features, FEATURES_OK, queues, DRIVER_OK. */
        void setUp(long value) {
            resetAndCheckQuiet();
            write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE);
            write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
            long offered = 0;
            for (int half = 0; half < 2; half++) {
                write(COMMON + DEVICE_FEATURE_SELECT, 4, half);
                offered |= (read(COMMON + DEVICE_FEATURE, 4) & 0xffff_ffffL) << (32 * half);
            }
            long keep = (value & 0xffff) | 1L << VirtioStatus.F_VERSION_1
                    | ((flags & 1) != 0 ? 1L << VirtioStatus.F_EVENT_IDX : 0) | ((flags & 2) != 0 ? 1L << VirtioStatus.F_INDIRECT_DESC : 0);
            long features = offered & (keep | ~0xffffL & ~(1L << VirtioStatus.F_EVENT_IDX | 1L << VirtioStatus.F_INDIRECT_DESC));
            for (int half = 0; half < 2; half++) {
                write(COMMON + DRIVER_FEATURE_SELECT, 4, half);
                write(COMMON + DRIVER_FEATURE, 4, (features >>> (32 * half)) & 0xffff_ffffL);
            }
            write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
            if ((flags & 4) != 0) cfg(msixCap + 2, 2, 0x8000); // MSI-X on; vectors 1 and 2 for the queues
            int queues = (value & 1L << 20) != 0 ? 2 : 1;
            for (int q = 0; q < queues; q++) {
                write(COMMON + QUEUE_SELECT, 2, q);
                write(COMMON + QUEUE_SIZE, 2, 1L << ((value >>> 16) % 9));
                long base = (long) QUEUE_STRIDE * q;
                write(COMMON + QUEUE_DESC, 8, base + VirtqueueFuzzing.DESC);
                write(COMMON + QUEUE_DRIVER, 8, base + VirtqueueFuzzing.AVAIL);
                write(COMMON + QUEUE_DEVICE, 8, base + VirtqueueFuzzing.USED);
                write(COMMON + QUEUE_MSIX_VECTOR, 2, q + 1);
                write(COMMON + QUEUE_ENABLE, 2, 1);
            }
            write(COMMON + DEVICE_STATUS, 1, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK | VirtioStatus.DRIVER_OK);
        }

        /** Resets the device and checks it then keeps still: status 0, and no guest memory touched after the reset. */
        void resetAndCheckQuiet() {
            // The guest may have moved BAR0 or turned memory decoding off: put it back first, as a driver would.
            machine.pci().configWrite(0, SLOT.slot(), 0, PciFunction.BAR0, 4, (int) assignedBar0);
            machine.pci().configWrite(0, SLOT.slot(), 0, PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
            machine.mmio().write(bar0() + COMMON + DEVICE_STATUS, 1, 0);
            long steps = memory.steps();
            int status = (int) read(COMMON + DEVICE_STATUS, 1);
            if (status != 0) findings.add("status reads 0x" + Integer.toHexString(status) + " after a reset");
            LockSupport.parkNanos(200_000);
            if (memory.steps() != steps) findings.add((memory.steps() - steps) + " guest-memory accesses after the reset returned");
        }
    }
}

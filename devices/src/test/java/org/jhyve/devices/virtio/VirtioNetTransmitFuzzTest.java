package org.jhyve.devices.virtio;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.jhyve.devices.fuzz.CheckingNetBackend;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;

/**
 * Fuzz target for virtio-net transmit (docs/reliability.md): the transmit queue's chains, from a RAM image the
 * input gives ({@link VirtqueueFuzzing.Setup}; flag bit 4 a backend with the vnet header, bit 5 sends that
 * fail), through {@link VirtioNet#transmit}.
 *
 * <p>Documented exception: {@link VirtqueueException} from the queue. Asserted: every chain taken gets a used
 * entry and is counted sent or dropped; the backend gets only buffers inside guest RAM and frames no longer
 * than the device's limit; no access outside guest RAM; no warn/error line with an exception.
 */
class VirtioNetTransmitFuzzTest {
    static final byte[] MAC = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.FINDING, new Findings("virtio-net-tx"),
            VirtioBlockFuzzTest.BUDGET, 0, VirtioBlockFuzzTest.LOW, VirtioBlockFuzzTest.HIGH_BASE, VirtioBlockFuzzTest.HIGH);

    @FuzzTest(maxDuration = "10s")
    void transmit(byte[] input) {
        Findings findings = new Findings("virtio-net-tx");
        FuzzMemory memory = MEMORY;
        memory.arm(findings, VirtioBlockFuzzTest.BUDGET);
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> e.thrown() != null)) {
            VirtqueueFuzzing.Setup setup = VirtqueueFuzzing.Setup.of(input);
            boolean vnet = setup.flag(4), failSends = setup.flag(5);
            memory.load(setup.image());
            long limit = vnet ? VirtioNet.HEADER + VirtioNet.MAX_FRAME : VirtioNet.MAX_FRAME;
            CheckingNetBackend backend = new CheckingNetBackend(vnet, memory, findings, limit, failSends);
            VirtioNet net = new VirtioNet("fuzz-net", backend, MAC);
            int served = VirtqueueFuzzing.serve(memory, setup.layout(), setup.eventIdx(), setup.indirect(), findings, chain -> net.transmit(0, backend, chain));
            long counted = net.txFrames.get() + net.txDropped.get();
            findings.check(counted == served, served + " chains taken, " + counted + " counted sent or dropped");
        } finally {
            findings.throwIfAny();
        }
    }
}

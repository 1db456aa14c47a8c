package org.jhyve.devices.virtio;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.devices.fuzz.CheckingNetBackend;
import org.jhyve.devices.net.NetBackend;
import org.jhyve.devices.net.VirtioNetFeatures;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;

/**
 * Fuzz target for the virtio-net control queue (docs/reliability.md): commands from a RAM image through
 * {@link VirtioNet#control}, on a device with one to four queue pairs (header byte 2), activated (flag bit 4)
 * with or without multi-queue (bit 5); no queue threads: the harness serves the control queue itself
 * ({@link VirtqueueFuzzing.Setup}).
 *
 * <p>Documented exception: {@link VirtqueueException} from the queue. Asserted: every chain taken gets a used
 * entry; a command with a class, a command byte and room for the ack gets ack OK (0) or ERR (1); no access
 * outside guest RAM; no warn/error line with an exception.
 */
class VirtioNetControlFuzzTest {
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.FINDING, new Findings("virtio-net-ctrl"),
            VirtioBlockFuzzTest.BUDGET, 0, VirtioBlockFuzzTest.LOW, VirtioBlockFuzzTest.HIGH_BASE, VirtioBlockFuzzTest.HIGH);

    @FuzzTest(maxDuration = "10s")
    void control(byte[] input) {
        Findings findings = new Findings("virtio-net-ctrl");
        FuzzMemory memory = MEMORY;
        memory.arm(findings, VirtioBlockFuzzTest.BUDGET);
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> e.thrown() != null)) {
            VirtqueueFuzzing.Setup setup = VirtqueueFuzzing.Setup.of(input);
            int pairs = 1 + setup.a() % 4;
            boolean activate = setup.flag(4), multiQueue = setup.flag(5);
            memory.load(setup.image());
            List<NetBackend> backends = new ArrayList<>();
            for (int i = 0; i < pairs; i++) backends.add(new CheckingNetBackend(false, memory, findings, 0, false));
            VirtioNet net = new VirtioNet("fuzz-net", backends, VirtioNetTransmitFuzzTest.MAC);
            if (activate) {
                // Every queue left out: activation then only records the negotiated pairs.
                long features = multiQueue ? 1L << VirtioNetFeatures.MQ : 0;
                net.activate(new VirtqueueFuzzing.Queues(memory, features, new SplitQueue[2 * pairs + 1], findings));
            }
            VirtqueueFuzzing.serve(memory, setup.layout(), setup.eventIdx(), setup.indirect(), findings, chain -> {
                int written = net.control(chain);
                if (chain.readable().length() >= 2 && chain.writable().length() >= 1) {
                    int ack = VirtqueueFuzzing.lastWritableByte(memory, chain);
                    findings.check(ack == VirtioNet.ACK_OK || ack == VirtioNet.ACK_ERR, "control command at head " + chain.head() + " acked " + ack);
                }
                return written;
            });
            net.reset();
        } finally {
            findings.throwIfAny();
        }
    }
}

package org.jhyve.devices.virtio;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.time.Duration;
import org.jhyve.devices.fuzz.CheckingNetBackend;
import org.jhyve.devices.net.VirtioNetFeatures;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Deadline;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;
import org.jhyve.fuzz.StepBudgetExceeded;

/**
 * Fuzz target for virtio-net receive (docs/reliability.md): frames arrive at the backend while the device's own
 * receive thread fills the receive queue's buffers, from a RAM image the input gives, with the vnet header
 * (flag bit 4), mergeable buffers (bit 5) and TSO (bit 6) on or off; header byte 2 says how many frames, bytes 3
 * and 15 how long ({@link VirtqueueFuzzing.Setup}). The harness waits until the thread has
 * caught up (no frame left), waits for buffers the guest did not post, or gave up on the queue, then resets
 * the device as the transport does (doorbells closed first).
 *
 * <p>Documented: the device fails the queue ({@link VirtioQueues#fail}) for a broken ring or a chain too
 * short for the header. Asserted: every frame the device took from the backend was returned on the used ring
 * (with num_buffers written); the backend gets only buffers inside guest RAM; no access outside guest RAM; the
 * device settles within the input's time budget and its reset ends the receive thread; no queue failure
 * naming a device error and no warn/error line with an exception (contained faults).
 */
class VirtioNetReceiveFuzzTest {
    private static final Duration SETTLE = Duration.ofSeconds(2);
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.FINDING, new Findings("virtio-net-rx"),
            VirtioBlockFuzzTest.BUDGET, 0, VirtioBlockFuzzTest.LOW, VirtioBlockFuzzTest.HIGH_BASE, VirtioBlockFuzzTest.HIGH);

    @FuzzTest(maxDuration = "10s")
    void receive(byte[] input) {
        Findings findings = new Findings("virtio-net-rx");
        FuzzMemory memory = MEMORY;
        memory.arm(findings, VirtioBlockFuzzTest.BUDGET);
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> e.thrown() != null)) {
            VirtqueueFuzzing.Setup setup = VirtqueueFuzzing.Setup.of(input);
            QueueLayout layout = setup.layout();
            boolean eventIdx = setup.eventIdx(), indirect = setup.indirect(), vnet = setup.flag(4);
            long features = (setup.flag(5) ? 1L << VirtioNetFeatures.MRG_RXBUF : 0)
                    | (setup.flag(6) ? 1L << VirtioNetFeatures.GUEST_TSO4 : 0)
                    | (eventIdx ? 1L << VirtioStatus.F_EVENT_IDX : 0) | (indirect ? 1L << VirtioStatus.F_INDIRECT_DESC : 0);
            CheckingNetBackend backend = new CheckingNetBackend(vnet, memory, findings, 0, false);
            byte[] image = setup.image();
            int frames = setup.a() % 8;
            for (int i = 0; i < frames; i++) {
                // Frame i: 14 to ~70 KiB bytes (TSO-sized when byte 3 says), its contents from the image.
                int length = setup.b() >= 0xf0 ? 65550 + 12 + 8 * i : 14 + (setup.b() * 31 + setup.c() * 7 * (i + 1)) % 3000;
                byte[] frame = new byte[length];
                System.arraycopy(image, 0, frame, 0, Math.min(length, image.length));
                backend.deliver(frame);
            }
            memory.load(image);
            SplitQueue rx;
            try {
                rx = new SplitQueue(memory, layout, eventIdx, indirect);
            } catch (VirtqueueException e) {
                return;
            }
            VirtqueueFuzzing.Queues queues = new VirtqueueFuzzing.Queues(memory, features, new SplitQueue[] {rx, null, null}, findings);
            VirtioNet net = new VirtioNet("fuzz-net", backend, VirtioNetTransmitFuzzTest.MAC);
            net.activate(queues);
            Deadline.in(SETTLE).await(() -> (backend.waiting() == 0 && backend.idleWaits() > 0)
                    || queues.doorbell(0).waits() > 0 || failed(queues) || memory.steps() > VirtioBlockFuzzTest.BUDGET, findings,
                    "the receive thread taking " + frames + " frames or waiting for buffers");
            queues.closeDoorbells();
            net.reset();
            if (!failed(queues) && memory.steps() <= VirtioBlockFuzzTest.BUDGET) {
                findings.check(net.rxFrames.get() == backend.received(),
                        backend.received() + " frames taken from the backend, " + net.rxFrames.get() + " returned to the guest");
            }
        } catch (StepBudgetExceeded e) {
            // Recorded by the memory.
        } finally {
            findings.throwIfAny();
        }
    }

    private static boolean failed(VirtqueueFuzzing.Queues queues) {
        synchronized (queues) {
            return !queues.failures.isEmpty();
        }
    }
}

package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.jhyve.devices.virtio.VirtqueueDriver.Buf;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.SegmentGuestMemory;
import org.jhyve.trace.TraceFilter;
import org.jhyve.trace.Tracer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The virtqueue trace lines and virtio-blk's JFR events, on heap guest memory. */
class VirtioObservabilityTest {
    final GuestMemory memory = SegmentGuestMemory.onHeap(1 << 20);
    final VirtqueueDriver driver = new VirtqueueDriver(memory, 0x1000, 16, 0x10000, 1 << 20);

    @TempDir
    Path dir;

    /** A virtio-blk request chain: header, {@code dataLen} bytes of data, status byte. */
    int queueRequest(int type, long sector, int dataLen) {
        long header = driver.allocate(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0, type).putLong(8, sector).array());
        long status = driver.allocate(1);
        if (dataLen == 0) return driver.addChain(List.of(Buf.in(header, 16), Buf.out(status, 1)));
        long data = driver.allocate(dataLen);
        return driver.addChain(List.of(Buf.in(header, 16), new Buf(data, dataLen, type == VirtioBlock.T_IN), Buf.out(status, 1)));
    }

    @Test
    void everyChainTakenIsAVirtqLine() throws Exception {
        StringWriter out = new StringWriter();
        AtomicLong clock = new AtomicLong();
        Tracer tracer = Tracer.writingTo(out, TraceFilter.parse("virtq"), () -> clock.getAndAdd(500));
        SplitQueue queue = new SplitQueue(memory, driver.layout(), false, false, new QueueTrace(tracer, "virtio-blk@0:4:0", 0));
        int first = queueRequest(VirtioBlock.T_IN, 0, 512);
        int second = queueRequest(VirtioBlock.T_FLUSH, 0, 0);
        while (queue.pop() != null) { }
        tracer.close();
        assertThat(out.toString()).isEqualTo("""
                    0.000000500 host  rip=-                virtq q0 head=%d descs=3 bytes=529 virtio-blk@0:4:0
                    0.000001000 host  rip=-                virtq q0 head=%d descs=2 bytes=17 virtio-blk@0:4:0
                """.formatted(first, second));
    }

    @Test
    void virtioBlockRequestsAreDeviceRequestEvents() throws Exception {
        VirtioBlock device = new VirtioBlock("virtio-blk@0:4:0", new MemoryBlockBackend(64 * 1024, false), VirtioBlockOptions.parse("disk.img"));
        SplitQueue queue = new SplitQueue(memory, driver.layout(), false, false);
        queueRequest(VirtioBlock.T_IN, 2, 4096);
        queueRequest(VirtioBlock.T_OUT, 8, 1024);
        queueRequest(VirtioBlock.T_FLUSH, 0, 0);
        queueRequest(VirtioBlock.T_IN, 1 << 20, 512); // past the end of the disk
        Path file = dir.resolve("blk.jfr");
        try (Recording r = new Recording()) {
            r.enable("jhyve.DeviceRequest").withoutThreshold();
            r.start();
            for (DescriptorChain c; (c = queue.pop()) != null; ) device.handle(c);
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("jhyve.DeviceRequest")).toList();
        assertThat(events).extracting(e -> e.getString("request") + " " + e.getLong("bytes") + " " + e.getString("status"))
                .containsExactly("read 4096 ok", "write 1024 ok", "flush 0 ok", "read 0 ioerr");
        assertThat(events).allSatisfy(e -> {
            assertThat(e.getString("device")).isEqualTo("virtio-blk@0:4:0");
            assertThat(e.getDuration()).isGreaterThanOrEqualTo(java.time.Duration.ZERO);
        });
    }
}

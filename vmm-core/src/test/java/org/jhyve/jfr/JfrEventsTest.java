package org.jhyve.jfr;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.jhyve.hv.VmExit;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jhyve's JFR events recorded in-process, then read back from the recording file. */
class JfrEventsTest {
    @TempDir
    Path dir;

    private List<RecordedEvent> record(String eventName, Runnable work) throws Exception {
        Path file = dir.resolve("events.jfr");
        try (Recording r = new Recording()) {
            r.enable(eventName).withoutThreshold();
            r.start();
            work.run();
            r.stop();
            r.dump(file);
        }
        return RecordingFile.readAllEvents(file).stream().filter(e -> e.getEventType().getName().equals(eventName)).toList();
    }

    @Test
    void interruptsFromAMachineAreRecorded() throws Exception {
        List<RecordedEvent> events = record("jhyve.Interrupt", () -> {
            try (TestMachine machine = new TestMachine(1 << 20)) {
                machine.irq(4).set(true);
                machine.msi().signal(0xfee0_1000L, 0x4031);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat(events).hasSize(2);
        assertThat(events.get(0).getString("kind")).isEqualTo("line");
        assertThat(events.get(0).getInt("gsi")).isEqualTo(4);
        assertThat(events.get(0).getBoolean("asserted")).isTrue();
        assertThat(events.get(1).getString("kind")).isEqualTo("msi");
        assertThat(events.get(1).getLong("msiAddress")).isEqualTo(0xfee0_1000L);
        assertThat(events.get(1).getInt("msiData")).isEqualTo(0x4031);
    }

    @Test
    void anExitEventCarriesItsVcpuReasonAndPort() throws Exception {
        List<RecordedEvent> events = record("jhyve.VmExit", () -> {
            VmExitEvent e = new VmExitEvent();
            e.begin();
            e.complete(1, new VmExit.PortIo(0x3f8, 1, 1, true, java.lang.foreign.MemorySegment.ofArray(new byte[1])));
        });
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.getInt("vcpu")).isEqualTo(1);
            assertThat(e.getString("reason")).isEqualTo("pio");
            assertThat(e.getLong("address")).isEqualTo(0x3f8);
            assertThat(e.getInt("size")).isEqualTo(1);
            assertThat(e.getBoolean("write")).isTrue();
        });
    }

    @Test
    void aThresholdKeepsOnlySlowExits() throws Exception {
        Path file = dir.resolve("slow.jfr");
        VmExit halt = new VmExit.Halt();
        try (Recording r = new Recording()) {
            r.enable("jhyve.VmExit").withThreshold(java.time.Duration.ofMillis(20));
            r.start();
            VmExitEvent fast = new VmExitEvent();
            fast.begin();
            fast.complete(0, halt);
            VmExitEvent slow = new VmExitEvent();
            slow.begin();
            Thread.sleep(30);
            slow.complete(1, halt);
            r.stop();
            r.dump(file);
        }
        assertThat(RecordingFile.readAllEvents(file).stream().filter(e -> e.getEventType().getName().equals("jhyve.VmExit")))
                .singleElement().satisfies(e -> {
                    assertThat(e.getInt("vcpu")).isEqualTo(1);
                    assertThat(e.getString("reason")).isEqualTo("halt");
                    assertThat(e.getLong("address")).isEqualTo(-1);
                });
    }

    @Test
    void withoutARecordingNothingIsCommitted() {
        VmExitEvent e = new VmExitEvent();
        e.begin();
        assertThat(e.shouldCommit()).isFalse();
    }

    @Test
    void eventsAreInTheJhyveCategory() {
        for (Class<? extends jdk.jfr.Event> c : List.of(VmExitEvent.class, DeviceRequestEvent.class, InterruptEvent.class)) {
            FlightRecorder.register(c);
            EventType t = EventType.getEventType(c);
            assertThat(t.getName()).startsWith("jhyve.");
            assertThat(t.getCategoryNames()).containsExactly("jhyve");
            assertThat(t.getLabel()).isNotBlank();
            assertThat(t.getDescription()).isNotBlank();
        }
    }
}

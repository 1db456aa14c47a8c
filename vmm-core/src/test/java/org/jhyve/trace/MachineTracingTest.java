package org.jhyve.trace;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.bus.BusDevice;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciConfigPorts;
import org.jhyve.pci.PciDevice;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.Test;

/** What a machine's buses, PCI and interrupt lines put in the trace, on {@link TestMachine}'s heap memory. */
class MachineTracingTest {
    private final StringWriter out = new StringWriter();
    /** Each reading is 1 µs after the previous one; the tracer's first reading is time 0. */
    private final AtomicLong clock = new AtomicLong();

    private Tracer tracer(String filter) {
        return Tracer.writingTo(out, TraceFilter.parse(filter), () -> clock.getAndAdd(1_000));
    }

    /** A UART-like device on COM1's ports and a 4 KiB MMIO register block. */
    private static void plugDevices(TestMachine machine) {
        BusDevice registers = new BusDevice() {
            @Override public long read(long offset, int size) { return 0x60 + offset; }

            @Override public void write(long offset, int size, long value) { }
        };
        machine.ioPorts().register(0x3f8, 8, "uart-com1", registers);
        machine.mmio().register(0xd000_0000L, 0x1000, "test-bar", registers);
    }

    private static void portWriteAndMmioRead(TestMachine machine) {
        machine.ioPorts().write(0x3f8, 1, 0x41);
        machine.mmio().read(0xd000_0010L, 4);
    }

    @Test
    void aPortWriteAndAnMmioReadAreOneLineEach() throws Exception {
        Tracer tracer = tracer("pio,mmio");
        try (TestMachine machine = new TestMachine(1 << 20, tracer)) {
            plugDevices(machine);
            tracer.attachVcpu(0, () -> 0xffffffff81001234L).newExit();
            portWriteAndMmioRead(machine);
        }
        tracer.close();
        assertThat(out.toString()).isEqualTo("""
                    0.000001000 vcpu0 rip=ffffffff81001234 pio   w 0x3f8/1 = 0x41 uart-com1
                    0.000002000 vcpu0 rip=ffffffff81001234 mmio  r 0xd0000010/4 = 0x70 test-bar
                """);
    }

    @Test
    void theRipIsReadOncePerExitAndOnlyWhenALineNeedsIt() throws Exception {
        Tracer tracer = tracer("pio");
        AtomicLong reads = new AtomicLong();
        try (TestMachine machine = new TestMachine(1 << 20, tracer)) {
            plugDevices(machine);
            VcpuTrace vcpu = tracer.attachVcpu(2, () -> 0x1000 + reads.incrementAndGet());
            vcpu.newExit();
            machine.mmio().read(0xd000_0010L, 4); // not traced: no RIP needed
            assertThat(reads).hasValue(0);
            machine.ioPorts().write(0x3f8, 1, 0x41);
            machine.ioPorts().write(0x3f8, 1, 0x42);
            vcpu.newExit();
            machine.ioPorts().write(0x3f8, 1, 0x43);
        }
        tracer.close();
        assertThat(reads).hasValue(2);
        assertThat(out.toString().lines().map(l -> l.substring(16, 42)))
                .containsExactly("vcpu2 rip=0000000000001001", "vcpu2 rip=0000000000001001", "vcpu2 rip=0000000000001002");
    }

    @Test
    void tracingOffWritesNothing() throws Exception {
        try (TestMachine machine = new TestMachine(1 << 20, Tracer.off())) {
            plugDevices(machine);
            portWriteAndMmioRead(machine);
        }
        Tracer unselected = tracer("virtq");
        try (TestMachine machine = new TestMachine(1 << 20, unselected)) {
            plugDevices(machine);
            portWriteAndMmioRead(machine);
            machine.irq(4).pulse();
        }
        unselected.close();
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void devicesAndRangesNarrowTheLines() throws Exception {
        Tracer tracer = tracer("pio,mmio;range=0x3f8-0x3ff");
        try (TestMachine machine = new TestMachine(1 << 20, tracer)) {
            plugDevices(machine);
            portWriteAndMmioRead(machine);
            machine.ioPorts().read(0x80, 1); // unclaimed, outside the range
            machine.ioPorts().read(0x3fd, 1);
        }
        tracer.close();
        assertThat(out.toString().lines()).hasSize(2).allMatch(l -> l.contains("pio") && l.endsWith("uart-com1"));
    }

    @Test
    void unclaimedAccessesNameNoDevice() {
        Tracer tracer = tracer("pio");
        try (TestMachine machine = new TestMachine(1 << 20, tracer)) {
            machine.ioPorts().read(0x80, 2);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        tracer.close();
        assertThat(out.toString()).endsWith("host  rip=-                pio   r 0x80/2 = 0xffff unclaimed\n");
    }

    @Test
    void pciConfigurationCyclesAndInterruptsHaveTheirOwnLines() throws Exception {
        Tracer tracer = tracer("pci,irq");
        try (TestMachine machine = new TestMachine(1 << 20, tracer)) {
            machine.pci().add(new PciAddress(0, 0, 0), new PciDevice() {
                @Override public String name() { return "hostbridge"; }

                @Override public int configRead(int offset, int size) { return 0x12751275; }

                @Override public void configWrite(int offset, int size, int value) { }
            });
            PciConfigPorts ports = new PciConfigPorts(machine.pci(), () -> { });
            ports.write(0, 4, 0x8000_0000L); // bus 0, slot 0, function 0, register 0
            ports.read(4, 4);
            ports.write(0, 4, 0x8000_0800L | 0x04); // slot 1: nobody there
            ports.write(4, 2, 0x0007);
            machine.irq(4).pulse();
            machine.msi().signal(0xfee0_0000L, 0x4021);
        }
        tracer.close();
        assertThat(out.toString()).isEqualTo("""
                    0.000001000 host  rip=-                pci   r 0:0:0 0x0/4 = 0x12751275 hostbridge
                    0.000002000 host  rip=-                pci   w 0:1:0 0x4/2 = 0x7 empty
                    0.000003000 host  rip=-                irq   gsi=4 level=1
                    0.000004000 host  rip=-                irq   gsi=4 level=0
                    0.000005000 host  rip=-                irq   msi addr=0xfee00000 data=0x4021
                """);
    }

    /** Bytes the calling thread allocates for 200,000 bus accesses on a machine traced by {@code tracer}. */
    private static long allocatedByAccesses(Tracer tracer) throws Exception {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (TestMachine machine = new TestMachine(1 << 20, tracer)) {
            plugDevices(machine);
            for (int i = 0; i < 20_000; i++) portWriteAndMmioRead(machine); // warm up, JIT included
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 100_000; i++) portWriteAndMmioRead(machine);
            return threads.getCurrentThreadAllocatedBytes() - before;
        }
    }

    @Test
    void kindsThatAreOffAllocateNothingOnTheBus() throws Exception {
        // The bus's own range lookup allocates (a TreeMap entry per access): compare with an untraced machine.
        long untraced = allocatedByAccesses(Tracer.off());
        long unselected = allocatedByAccesses(tracer("virtq"));
        long traced = allocatedByAccesses(tracer("pio,mmio"));
        assertThat(unselected).as("untraced %d, unselected %d", untraced, unselected).isLessThan(untraced + 200_000);
        assertThat(traced).as("a line per access shows").isGreaterThan(untraced + 200_000 * 40L);
    }
}

package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jhyve.bus.Bus;
import org.jhyve.hv.VmExit;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The userspace platform assembled and wired as a PC, driven through its buses and the vCPU side, without a
 * hypervisor: device lines reach the IOAPIC (ISA IRQ 0 on pin 2) and the PICs, the PIC reaches the boot processor
 * as ExtINT, MSIs reach the APIC they name, a halted vCPU wakes for an interrupt it can take, application processors
 * start on INIT-SIPI-SIPI, and CR8 and the TPR stay one register.
 */
class UserspacePlatformTest {
    private static final long IOAPIC = 0xfec0_0000L, APIC = 0xfee0_0000L;
    private Bus ioPorts;
    private Bus mmio;
    private UserspacePlatform platform;
    private InjectingTestVcpu bsp;
    private InjectingTestVcpu ap;
    private UserspaceVcpuInterrupts bspSide;
    private UserspaceVcpuInterrupts apSide;

    @BeforeEach
    void build() {
        ioPorts = new Bus("port-io", TraceKind.PIO, Tracer.off());
        mmio = new Bus("mmio", TraceKind.MMIO, Tracer.off());
        platform = new UserspacePlatform(ioPorts, mmio, new PlatformEvents(Tracer.off()));
        bsp = new InjectingTestVcpu(0);
        ap = new InjectingTestVcpu(1);
        bspSide = platform.attach(bsp).interrupts();
        apSide = platform.attach(ap).interrupts();
    }

    @AfterEach
    void close() {
        platform.close();
    }

    private void route(int pin, int vector, int destination) {
        mmio.write(IOAPIC, 4, 0x11 + 2L * pin);
        mmio.write(IOAPIC + 0x10, 4, (long) destination << 24);
        mmio.write(IOAPIC, 4, 0x10 + 2L * pin);
        mmio.write(IOAPIC + 0x10, 4, vector); // fixed, physical, edge, unmasked
    }

    /** An MMIO exit of the vCPU to its APIC page, as the hypervisor reports it. */
    private static VmExit.Mmio apicWrite(int offset, int value) {
        MemorySegment data = MemorySegment.ofArray(new byte[4]);
        data.set(ValueLayout.JAVA_INT_UNALIGNED, 0, value);
        return new VmExit.Mmio(APIC + offset, 4, true, data);
    }

    private static int apicRead(UserspaceVcpuInterrupts side, int offset) {
        MemorySegment data = MemorySegment.ofArray(new byte[4]);
        assertThat(side.handle(new VmExit.Mmio(APIC + offset, 4, false, data))).isTrue();
        return data.get(ValueLayout.JAVA_INT_UNALIGNED, 0);
    }

    /** What an OS that uses the IOAPIC does first: both PICs masked, so a line reaches the CPU once, not twice. */
    private void maskPics() {
        ioPorts.write(0x21, 1, 0xff);
        ioPorts.write(0xa1, 1, 0xff);
    }

    @Test
    void aDeviceLineThroughTheIoApicIsInjectedWhenTheGuestCanTakeIt() {
        maskPics();
        route(4, 0x31, 0);
        bsp.ready = false;
        platform.setIrqLine(4, true);
        assertThat(bsp.kicks.get()).as("the running vCPU is kicked out of the guest").isPositive();
        assertThat(bspSide.beforeRun()).isTrue();
        assertThat(bsp.injected).as("IF clear: nothing injected").isEmpty();
        assertThat(bsp.windowRequested).as("the interrupt window asked for").isTrue();
        bsp.ready = true;
        assertThat(bspSide.beforeRun()).isTrue();
        assertThat(bsp.injected).containsExactly(0x31);
        assertThat(bsp.windowRequested).isFalse();
        assertThat(bspSide.handle(apicWrite(0xb0, 0))).as("the EOI goes to the APIC").isTrue();
        assertThat(bspSide.beforeRun()).isTrue();
        assertThat(bsp.injected).as("an edge is delivered once").containsExactly(0x31);
    }

    @Test
    void theTimersIsaIrqZeroArrivesAtIoApicPinTwo() {
        maskPics();
        route(0, 0x40, 0);
        route(2, 0x42, 0);
        platform.setIrqLine(0, true);
        bspSide.beforeRun();
        assertThat(bsp.injected).containsExactly(0x42);
    }

    @Test
    void thePicReachesTheBootProcessorAsExtInt() {
        // ICW1 (edge, cascade, ICW4), ICW2 vector base 0x20, ICW3 slave on IRQ 2, ICW4 8086 mode; mask all but IRQ 1.
        ioPorts.write(0x20, 1, 0x11);
        ioPorts.write(0x21, 1, 0x20);
        ioPorts.write(0x21, 1, 0x04);
        ioPorts.write(0x21, 1, 0x01);
        ioPorts.write(0x21, 1, 0xfd);
        platform.setIrqLine(1, true);
        assertThat(bspSide.beforeRun()).isTrue();
        assertThat(bsp.injected).as("the PIC's vector for IRQ 1, through LINT0 in virtual-wire mode").containsExactly(0x21);
        assertThat(ap.injected).isEmpty();
    }

    @Test
    void aMsiReachesTheApicItNames() throws Exception {
        startAp(0x9a);
        apSide.handle(apicWrite(0xf0, 0x1ff)); // the AP's OS software-enables its APIC (INIT disabled it)
        platform.signalMsi(0xfee0_1000L, 0x45); // destination APIC ID 1, fixed, vector 0x45
        assertThat(apSide.beforeRun()).isTrue();
        assertThat(ap.injected).containsExactly(0x45);
        bspSide.beforeRun();
        assertThat(bsp.injected).isEmpty();
    }

    @Test
    void anApplicationProcessorWaitsForItsStartupIpiThenStartsInRealModeAtItsVector() throws Exception {
        CompletableFuture<Boolean> early = CompletableFuture.supplyAsync(apSide::beforeRun);
        Thread.sleep(50);
        apSide.wake(); // a kick (pause, stop) before any SIPI: back to the loop, not running
        assertThat(early.get(5, TimeUnit.SECONDS)).isFalse();
        startAp(0x9a);
        assertThat(ap.registers.rip()).isZero();
        assertThat(ap.sregs.cs().base()).isEqualTo(0x9a000L);
        assertThat(ap.sregs.cs().selector()).isEqualTo(0x9a00);
        assertThat(ap.sregs.protectedMode()).isFalse();
    }

    /** INIT, then STARTUP with {@code vector}, sent by the BSP's ICR to APIC 1; the AP runs its first beforeRun. */
    private void startAp(int vector) throws Exception {
        CompletableFuture<Boolean> started = CompletableFuture.supplyAsync(apSide::beforeRun);
        bspSide.handle(apicWrite(0x310, 1 << 24));
        bspSide.handle(apicWrite(0x300, 0x4500)); // INIT, level assert
        bspSide.handle(apicWrite(0x310, 1 << 24));
        bspSide.handle(apicWrite(0x300, 0x4600 | vector)); // STARTUP
        assertThat(started.get(5, TimeUnit.SECONDS)).as("the AP runs after its SIPI").isTrue();
        assertThat(apSide.parked()).isFalse();
    }

    @Test
    void aHaltedVcpuSleepsUntilAnInterruptItCanTakeArrives() throws Exception {
        maskPics(); // else the unprogrammed PIC may reach the CPU first, through LINT0, with its vector 5
        route(5, 0x35, 0);
        bsp.ready = true;
        assertThat(bspSide.handle(new VmExit.Halt())).isTrue();
        assertThat(bspSide.parked()).isTrue();
        CompletableFuture<Boolean> run = CompletableFuture.supplyAsync(bspSide::beforeRun);
        Thread.sleep(100);
        assertThat(run).as("still halted").isNotDone();
        platform.setIrqLine(5, true);
        assertThat(run.get(5, TimeUnit.SECONDS)).isTrue();
        assertThat(bsp.injected).containsExactly(0x35);
    }

    @Test
    void aVcpuHaltedWithInterruptsOffStaysHaltedAndAKickOnlyReturnsToTheLoop() throws Exception {
        maskPics();
        route(5, 0x35, 0);
        bsp.ready = false; // cli; hlt
        bspSide.handle(new VmExit.Halt());
        platform.setIrqLine(5, true);
        CompletableFuture<Boolean> run = CompletableFuture.supplyAsync(bspSide::beforeRun);
        Thread.sleep(100);
        assertThat(run).isNotDone();
        bspSide.wake();
        assertThat(run.get(5, TimeUnit.SECONDS)).isFalse();
        assertThat(bsp.injected).isEmpty();
        assertThat(bspSide.parked()).isTrue();
    }

    @Test
    void cr8AndTheTprAreOneRegister() {
        bspSide.beforeRun();
        bspSide.handle(apicWrite(0x80, 0x50)); // TPR through the APIC page
        assertThat(bspSide.beforeRun()).isTrue();
        assertThat(apicRead(bspSide, 0x80)).as("a stale CR8 does not undo a TPR write").isEqualTo(0x50);
        assertThat(bsp.cr8).as("CR8 for the next entry").isEqualTo(5);
        bsp.cr8 = 0x9; // the guest's MOV to CR8
        bspSide.beforeRun();
        assertThat(apicRead(bspSide, 0x80)).isEqualTo(0x90);
    }

    @Test
    void theRtcAndThePitAnswerOnTheirPorts() {
        ioPorts.write(0x70, 1, 0x0a);
        assertThat(ioPorts.read(0x71, 1) & 0x0f).as("RTC register A's rate select at power-on").isEqualTo(0x6);
        ioPorts.write(0x43, 1, 0x34); // channel 0, lobyte/hibyte, mode 2
        ioPorts.write(0x40, 1, 0xff);
        ioPorts.write(0x40, 1, 0xff);
        ioPorts.write(0x43, 1, 0x00); // latch channel 0
        int count = (int) ioPorts.read(0x40, 1) | (int) ioPorts.read(0x40, 1) << 8;
        assertThat(count).isBetween(1, 0xffff);
    }
}

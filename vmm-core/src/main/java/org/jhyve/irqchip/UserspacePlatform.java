package org.jhyve.irqchip;

import java.util.ArrayList;
import java.util.List;
import org.jhyve.bus.Bus;
import org.jhyve.hv.InterruptInjection;
import org.jhyve.hv.Vcpu;
import org.jhyve.irq.IrqLine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PC interrupt platform in userspace, assembled: a local APIC per vCPU on one APIC bus, the IOAPIC at
 * 0xFEC00000, the cascaded PICs, the PIT on channel 0 to ISA IRQ 0 and the speaker port, the CMOS RTC on IRQ 8; the
 * wiring a PC has between them (PIC INTR to the boot processor's LINT0; ISA IRQ 0 to IOAPIC pin 2, as jhyve's MADT
 * override says; every other GSI n to PIC input n below 16 and IOAPIC pin n); MSIs decoded onto the APIC bus.
 *
 * <p>Threading rules: built on the thread that builds the VM; then {@link #setIrqLine} and {@link #signalMsi} from
 * any thread (devices), the devices' registers from vCPU threads, the timers on the clock's thread. {@link #close}
 * once every vCPU thread has ended.
 */
public final class UserspacePlatform implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UserspacePlatform.class);

    /** ISA IRQ 0 (the PIT) arrives at IOAPIC pin 2: the interrupt source override every PC firmware reports. */
    private static final int PIT_IOAPIC_PIN = 2;
    private static final int LVT_LINT0 = 0x350, LVT_LINT1 = 0x360;
    private static final int EXTINT = 7, NMI = 4;
    private static final int SVR = 0xf0, SVR_ENABLE = 1 << 8, SPURIOUS_VECTOR = 0xff;

    private final HostPlatformClock clock = new HostPlatformClock();
    private final PlatformEvents events;
    private final ApicBus apicBus;
    private final IoApic ioApic;
    private final CascadedPics pics;
    private final Pit8254 pit;
    private final CmosRtc rtc;
    private final List<LocalApic> apics = new ArrayList<>();

    public UserspacePlatform(Bus ioPorts, Bus mmio, PlatformEvents events) {
        this.events = events;
        this.apicBus = new ApicBus();
        this.ioApic = new IoApic(apicBus);
        apicBus.setEoiListener(vector -> {
            events.endOfInterrupt(vector);
            ioApic.endOfInterrupt(vector);
        });
        // The PIC's INTR goes to the boot processor's LINT0, whose LVT the guest sets to ExtINT (or masks).
        this.pics = new CascadedPics(level -> {
            if (!apics.isEmpty()) apics.getFirst().setLint0(level);
        });
        this.pit = new Pit8254(new TracedClock(clock, "pit", events), isaLine(0));
        this.rtc = new CmosRtc(new TracedClock(clock, "rtc", events), isaLine(8));
        ioPorts.register(CascadedPics.MASTER_PORT, 2, "pic-master", pics.masterPorts());
        ioPorts.register(CascadedPics.SLAVE_PORT, 2, "pic-slave", pics.slavePorts());
        ioPorts.register(CascadedPics.ELCR_PORT, 2, "pic-elcr", pics.elcrPorts());
        ioPorts.register(Pit8254.BASE_PORT, 4, "pit", pit);
        ioPorts.register(NmiStatusControlPort.PORT, 1, "nmi-status-control", new NmiStatusControlPort(pit, clock));
        ioPorts.register(CmosRtc.INDEX_PORT, 2, "rtc", rtc);
        mmio.register(IoApic.DEFAULT_BASE, IoApic.MMIO_SIZE, "ioapic", ioApic);
    }

    /** ISA IRQ {@code irq}'s wire: PIC input {@code irq} and its IOAPIC pin. */
    private IrqLine isaLine(int irq) {
        return level -> setIrqLine(irq, level);
    }

    /** Drives GSI {@code gsi} (0-23) to {@code level}: PIC input and IOAPIC pin as a PC wires them. */
    public void setIrqLine(int gsi, boolean level) {
        if (gsi < 16) pics.setIrq(gsi, level);
        ioApic.setPin(gsi == 0 ? PIT_IOAPIC_PIN : gsi, level);
    }

    /** An MSI: the write of {@code data} to {@code address}, decoded onto the APIC bus; not an MSI address: dropped. */
    public void signalMsi(long address, int data) {
        MsiMessage.decode(address, data).ifPresentOrElse(apicBus::deliver,
                () -> log.debug("MSI write to 0x{} is outside the APIC's range: dropped", Long.toHexString(address)));
    }

    /**
     * The vCPU {@code vcpu} as the VM runs it on this platform: with its local APIC (APIC ID = index; index 0 the boot
     * processor) and the driver that injects for it. Call once per vCPU, in index order, before any runs.
     */
    public PlatformVcpu attach(Vcpu vcpu) {
        InterruptInjection injection = vcpu.interruptInjection().orElseThrow(() -> new IllegalStateException(
                "vCPU " + vcpu.index() + " has no interrupt injection: the hypervisor VM was not made for a userspace irqchip"));
        boolean boot = vcpu.index() == 0;
        UserspaceVcpuInterrupts driver = new UserspaceVcpuInterrupts(vcpu, injection, pics, boot, events);
        TscSource tsc = new TscSource() {
            @Override public long hz() { return injection.tscHz(); }
            @Override public long now() { return injection.guestTsc(); }
        };
        LocalApic apic = new LocalApic(vcpu.index(), boot, new TracedClock(clock, "lapic" + vcpu.index(), events), apicBus, driver, tsc);
        driver.attach(apic);
        // What a PC's firmware leaves before the OS runs ("virtual wire" mode, MP spec 3.6.2.2): the APIC software-
        // enabled (LVTs cannot be unmasked otherwise), the PIC's INTR through LINT0 as ExtINT, LINT1 as NMI. jhyve's
        // boot loaders replace the firmware, so the platform does it, as FirmwareDefaults does for KVM's APIC.
        apic.writeMmio(SVR, 4, SVR_ENABLE | SPURIOUS_VECTOR);
        apic.writeMmio(LVT_LINT0, 4, EXTINT << 8);
        apic.writeMmio(LVT_LINT1, 4, NMI << 8);
        apicBus.register(apic);
        apics.add(apic);
        return new PlatformVcpu(vcpu, driver);
    }

    /** Stops the timers. */
    @Override
    public void close() {
        clock.close();
    }
}

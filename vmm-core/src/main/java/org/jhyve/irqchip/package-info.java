/**
 * The userspace interrupt platform: local APICs, the IOAPIC, the two 8259 PICs, the 8254 PIT and the CMOS RTC
 * emulated in Java, for hypervisors that leave all of it to the VMM (Hypervisor.framework; KVM without its
 * in-kernel irqchip, {@code --irqchip userspace}). xhyve's {@code vlapic.c}, {@code vioapic.c}, {@code vatpic.c},
 * {@code vatpit.c} and {@code vrtc.c} do the same in C.
 *
 * <p>How the pieces meet: devices drive interrupt lines ({@link org.jhyve.irq.IrqLine}); the platform routes GSI
 * n to PIC input n (n &lt; 16) and IOAPIC pin n (ISA IRQ 0, the PIT, to pin 2 as the MADT says). The IOAPIC and MSIs
 * turn into {@link ApicMessage}s that an {@link InterruptRouter} hands to the local APICs; the local APIC of a
 * vCPU tells its vCPU's thread through a {@link LocalApicListener} that something is pending, and that thread
 * injects it between two runs. Timers run on {@link PlatformClock}, whose actions kick the vCPU they concern.
 */
package org.jhyve.irqchip;

/**
 * macOS Hypervisor.framework through the FFM API: not written yet. The module exists so the build and
 * the SPI stay honest about a second backend; it will load only on macOS. Hypervisor.framework has no
 * in-kernel interrupt controller and does not decode MMIO instructions, so this backend will supply the
 * local APIC, IOAPIC, PIC and PIT in Java and use {@code org.jhyve.x86} to decode MMIO accesses.
 */
package org.jhyve.hvf;

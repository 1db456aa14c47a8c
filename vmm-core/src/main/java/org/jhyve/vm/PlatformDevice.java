package org.jhyve.vm;

/**
 * A device that is not on PCI (power management, the i8042 reset port...): it installs itself on the
 * machine's buses when the VM is built.
 */
@FunctionalInterface
public interface PlatformDevice {
    void install(MachineContext machine);
}

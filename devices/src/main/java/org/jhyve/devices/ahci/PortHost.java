package org.jhyve.devices.ahci;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import org.jhyve.memory.GuestMemory;

/**
 * What a port needs from its HBA: guest memory, the PCI bus-master bit (read by the worker without PciBus's
 * monitor, which {@link org.jhyve.pci.PciFunction} allows any thread), the HBA's lock (guarding every register of
 * every port and the global ones) and a way to re-evaluate the HBA's interrupt after a port's worker has changed
 * PxIS (called with the lock held; asserted).
 */
record PortHost(String hbaName, GuestMemory memory, BooleanSupplier busMasterEnabled, ReentrantLock lock, Runnable interruptsChanged) {}

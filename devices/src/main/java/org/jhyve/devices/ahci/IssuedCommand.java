package org.jhyve.devices.ahci;

/**
 * A command the port has fetched and handed to its worker: the slot, whether it is a native queued one, where
 * its header is (for PRDBC), what the device executes, and the port's reset generation when it was fetched.
 * A completion whose generation is no longer the port's belongs to a command a reset has dropped.
 */
record IssuedCommand(int slot, boolean queued, long headerAddress, AtaCommand command, int generation) {}

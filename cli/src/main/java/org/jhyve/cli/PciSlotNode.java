package org.jhyve.cli;

import org.jhyve.config.ConfigNode;
import org.jhyve.pci.PciAddress;

/** A PCI function of the configuration tree: its address, its emulation ({@code device}) and the node the device reads. */
record PciSlotNode(PciAddress address, String emulation, ConfigNode node) {}

package org.jhyve.devices.ahci;

/**
 * A command as the port hands it to its device: the command FIS, the ATAPI command packet (16 bytes, read from
 * the command table only for PACKET), and the data buffers the PRD table describes.
 */
record AtaCommand(CommandFis fis, byte[] packet, PrdTable data) {}

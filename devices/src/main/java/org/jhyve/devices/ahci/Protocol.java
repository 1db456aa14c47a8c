package org.jhyve.devices.ahci;

/**
 * How a command moved its data, which decides the FISes the device sends back (SATA 3.x, 11): PIO data-in
 * ends with a PIO Setup FIS carrying the ending status, first-party DMA queued commands with a Set Device
 * Bits FIS, everything else (and every error) with a Register Device-to-Host FIS.
 */
enum Protocol {
    NON_DATA, PIO_IN, PIO_OUT, DMA, QUEUED, PACKET
}

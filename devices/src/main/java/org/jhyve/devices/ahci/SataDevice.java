package org.jhyve.devices.ahci;

import java.io.IOException;

/**
 * What sits at the end of a port's link: an ATA disk or an ATAPI CD-ROM. A device executes one command at a
 * time, synchronously; the port owns everything AHCI (command list, FISes, interrupts).
 */
sealed interface SataDevice permits AtaDisk, AtapiCdrom {
    /** The task file the device reports after a reset (its signature FIS); also what PxSIG latches. */
    TaskFile resetTaskFile();

    /** COMRESET, software reset or HBA reset: the device forgets transient state (sense data, NCQ error). */
    void reset();

    /**
     * How many commands may execute at once: queued ones run in parallel up to this many, each on its own
     * worker thread; {@link #execute} is then called from that many threads at once, for queued commands only.
     */
    int parallelCommands();

    /** Whether this command is a native command queuing one (completed by a Set Device Bits FIS). */
    boolean isQueued(CommandFis fis);

    /**
     * Runs the command. Guest-caused problems with the data buffers surface as {@link DmaFault}; everything the
     * device itself refuses or fails comes back as a completion with ERR set.
     */
    Completion execute(AtaCommand command);

    /** A short label for logs: "disk.img (ATA disk)". */
    String describe();

    /** Releases the backend, making completed writes durable. */
    void close() throws IOException;
}

package org.jhyve.devices.ahci;

import static org.jhyve.devices.ahci.AhciRegisters.*;

import java.util.function.BooleanSupplier;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.GuestMemoryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One AHCI port with its device (AHCI 1.3, 3.3 and 5): the port registers, the link (COMRESET through PxSCTL),
 * and the command engine. Commands run synchronously on the thread that sets their PxCI bit (a vCPU writing
 * the register), in slot order: the header is read from the command list, the command FIS and PRD table from
 * the command table, the device executes, and the ending FIS goes to the received-FIS area (when FRE is set),
 * setting PxTFD and the PxIS bits. Not thread-safe: the HBA serialises access.
 *
 * <p>Errors follow the specification's two kinds. A command the device fails (ERR in its ending status) sets
 * PxIS.TFES and leaves its PxCI bit set. A guest address outside RAM (command list, command table, PRD table,
 * data buffer, received-FIS area) sets PxIS.HBFS; a PRD table shorter than the data sets PxIS.OFS and IFS.
 * After either the port processes nothing more until software clears PxCMD.ST, as a real HBA, and one line
 * naming the guest address goes to the log.
 */
final class AhciPort {
    private static final Logger log = LoggerFactory.getLogger(AhciPort.class);
    private static final int SIGNATURE_NONE = 0xffff_ffff;

    private final String name;
    private final SataDevice device;
    private final GuestMemory memory;
    private final BooleanSupplier busMasterEnabled;
    private final GuestErrorLog errors;

    private long commandList, fisBase;
    private int is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci, currentSlot;
    private boolean linkUp;
    /** TFES or a fatal error happened: nothing is processed until ST is cleared. */
    private boolean halted;
    /** SRST was set by a control FIS; clearing it resets the device. */
    private boolean softResetAsserted;
    /** Queued commands finished in this run of the command list, completed together by one Set Device Bits FIS. */
    private int completedTags;

    AhciPort(String name, SataDevice device, GuestMemory memory, BooleanSupplier busMasterEnabled) {
        this.name = name;
        this.device = device;
        this.memory = memory;
        this.busMasterEnabled = busMasterEnabled;
        this.errors = new GuestErrorLog(log, name);
        hbaReset();
    }

    SataDevice device() { return device; }

    /** GHC.HR (and power-on): registers to their reset values, then the link comes up with the device's signature. */
    void hbaReset() {
        is = ie = cmd = sctl = serr = sact = ci = currentSlot = 0;
        halted = softResetAsserted = false;
        completedTags = 0;
        device.reset();
        linkEstablished();
    }

    /** Whether this port asks for an interrupt: a PxIS bit that PxIE enables. */
    boolean interruptPending() {
        return (is & ie) != 0;
    }

    int read(int offset) {
        return switch (offset) {
            case P_CLB -> (int) commandList;
            case P_CLBU -> (int) (commandList >>> 32);
            case P_FB -> (int) fisBase;
            case P_FBU -> (int) (fisBase >>> 32);
            case P_IS -> is;
            case P_IE -> ie;
            case P_CMD -> commandRegister();
            case P_TFD -> tfd;
            case P_SIG -> sig;
            case P_SSTS -> ssts;
            case P_SCTL -> sctl;
            case P_SERR -> serr;
            case P_SACT -> sact;
            case P_CI -> ci;
            default -> 0; // SNTF, FBS, DEVSLP: not supported (CAP.SSNTF, FBSS, CAP2.SDS clear)
        };
    }

    void write(int offset, int value) {
        switch (offset) {
            // The command list is 1 KiB aligned, the received-FIS area 256 bytes: their low bits are read-only zero.
            case P_CLB -> commandList = (commandList & 0xffff_ffff_0000_0000L) | (value & 0xffff_fc00L);
            case P_CLBU -> commandList = (commandList & 0xffff_ffffL) | (long) value << 32;
            case P_FB -> fisBase = (fisBase & 0xffff_ffff_0000_0000L) | (value & 0xffff_ff00L);
            case P_FBU -> fisBase = (fisBase & 0xffff_ffffL) | (long) value << 32;
            case P_IS -> is &= ~value;
            case P_IE -> ie = value & IS_IMPLEMENTED;
            case P_CMD -> writeCommandRegister(value);
            case P_SCTL -> writeSataControl(value);
            case P_SERR -> serr &= ~value;
            case P_SACT -> {
                if (started()) sact |= value;
            }
            case P_CI -> {
                if (started()) {
                    ci |= value;
                    runCommandList();
                }
            }
            default -> { } // TFD, SIG, SSTS are read-only; the rest is not implemented
        }
    }

    private boolean started() {
        return (cmd & CMD_ST) != 0;
    }

    /** SUD and POD read as one (no staggered spin-up, no cold presence detection); CR and FR follow ST and FRE. */
    private int commandRegister() {
        int v = cmd | CMD_SUD | CMD_POD | currentSlot << CMD_CCS_SHIFT;
        if ((cmd & CMD_ST) != 0) v |= CMD_CR;
        if ((cmd & CMD_FRE) != 0) v |= CMD_FR;
        return v;
    }

    private void writeCommandRegister(int value) {
        boolean wasStarted = started();
        int kept = CMD_PLAIN_BITS | CMD_ST | CMD_FRE;
        cmd = (cmd & ~kept) | (value & kept);
        // Command list override: clear BSY and DRQ so a stuck device does not block a new command; self-clearing.
        if ((value & CMD_CLO) != 0) tfd &= ~(TaskFile.BSY | TaskFile.DRQ);
        if (wasStarted && !started()) {
            // Stopping the engine drops every command (AHCI 1.3, 3.3.14) and ends the error state.
            ci = sact = currentSlot = completedTags = 0;
            halted = false;
        } else if (!wasStarted && started()) {
            runCommandList();
        }
    }

    /**
     * PxSCTL.DET = 1 holds the link in COMRESET; writing 0 after it lets the link come up again, and the device
     * then sends its signature. DET = 4 (phy offline) keeps the link down too.
     */
    private void writeSataControl(int value) {
        int before = sctl & DET_MASK;
        sctl = value & 0xfff; // DET, SPD, IPM; PMP and SPM are for port multipliers
        int det = value & DET_MASK;
        if (det != 0) {
            linkUp = false;
            ssts = 0;
            sig = SIGNATURE_NONE;
            tfd = TaskFile.BSY;
            device.reset();
        } else if (before != 0) {
            linkEstablished();
        }
    }

    /** The phy is up at the speed PxSCTL.SPD allows (Gen3 when it does not limit), and the device's reset FIS arrives. */
    private void linkEstablished() {
        int limit = (sctl >>> SPD_SHIFT) & 0xf;
        int speed = limit >= 1 && limit <= GEN3 ? limit : GEN3;
        linkUp = true;
        ssts = DET_PRESENT_PHY_UP | speed << SPD_SHIFT | IPM_ACTIVE;
        TaskFile signature = device.resetTaskFile();
        tfd = signature.tfd();
        sig = signature.signature();
        post(RFIS_D2H, ReceivedFis.registerD2h(signature, false));
    }

    /** Runs every issued command, lowest slot first, until the list is done or the port enters an error state. */
    private void runCommandList() {
        if (!started() || halted || !linkUp || ci == 0) return;
        if (!busMasterEnabled.getAsBoolean()) {
            fatal(IS_HBFS, "command list at guest address 0x%x: bus mastering is disabled in the PCI command register", commandList);
            return;
        }
        for (int slot = 0; slot < SLOTS && !halted; slot++) {
            if ((ci & 1 << slot) == 0) continue;
            currentSlot = slot;
            runSlot(slot);
        }
        completeQueued();
    }

    private void runSlot(int slot) {
        long headerAddress = commandList + (long) COMMAND_HEADER_SIZE * slot;
        try {
            CommandHeader header = CommandHeader.parse(readGuest("command header " + slot, headerAddress, COMMAND_HEADER_SIZE));
            long table = header.tableAddress();
            CommandFis fis = CommandFis.parse(readGuest("command FIS of slot " + slot, table + TABLE_CFIS, CommandFis.LENGTH));
            if (fis.type() != CommandFis.TYPE_REGISTER_H2D || header.cfisDwords() < CommandFis.LENGTH / 4) {
                errors.report("slot %d: command table at guest address 0x%x holds FIS type 0x%02x of %d dwords, not a register H2D FIS",
                        slot, table, fis.type(), header.cfisDwords());
                finish(slot, false, Completion.nonData(TaskFile.aborted()));
                return;
            }
            if (!fis.command()) {
                deviceControl(slot, fis);
                return;
            }
            boolean queued = device.isQueued(fis);
            if (queued && (fis.queuedTag() != slot || (sact & 1 << slot) == 0)) {
                errors.report("slot %d: queued command with tag %d, PxSACT 0x%08x: the tag must be the slot and active", slot, fis.queuedTag(), sact);
                finish(slot, false, Completion.nonData(TaskFile.aborted()));
                return;
            }
            if (!queued) completeQueued();
            byte[] packet = fis.opcode() == AtaOpcodes.PACKET ? readGuest("ATAPI command of slot " + slot, table + TABLE_ACMD, ACMD_BYTES) : new byte[ACMD_BYTES];
            PrdTable data = new PrdTable(memory, table + TABLE_PRDT, header.prdtLength());
            Completion done = device.execute(new AtaCommand(fis, packet, data));
            if (!queued) writeGuestInt(headerAddress + CommandHeader.PRDBC_OFFSET, (int) done.transferred());
            finish(slot, queued, done);
        } catch (DmaFault f) {
            fatal(f.kind() == DmaFault.Kind.OUTSIDE_GUEST_RAM ? IS_HBFS : IS_OFS | IS_IFS, "slot %d: %s", slot, f.getMessage());
        } catch (RuntimeException e) {
            // A bug in the device model must not reach the vCPU: fail the port as a real HBA would on an internal error.
            log.error("{}: slot {}: internal error", name, slot, e);
            fatal(IS_IFS, "slot %d: internal error: %s", slot, e);
        }
    }

    /** Posts the ending FIS of a command and updates PxTFD, PxCI, PxSACT and PxIS. */
    private void finish(int slot, boolean queued, Completion done) {
        int bit = 1 << slot;
        TaskFile tf = done.taskFile();
        if (queued) {
            // The drive accepts the command with a D2H FIS that clears BSY without an interrupt; the HBA then clears PxCI.
            TaskFile accepted = TaskFile.ok();
            post(RFIS_D2H, ReceivedFis.registerD2h(accepted, false));
            tfd = accepted.tfd();
            ci &= ~bit;
            if (!done.failed()) {
                completedTags |= bit;
                return;
            }
            // The failed tag stays in PxSACT; tags done before it complete in the same Set Device Bits FIS.
            setDeviceBits(tf.status(), tf.error());
            enterErrorState(slot, tf);
            return;
        }
        if (done.failed()) {
            post(RFIS_D2H, ReceivedFis.registerD2h(tf, true));
            tfd = tf.tfd();
            is |= IS_DHRS;
            enterErrorState(slot, tf);
            return;
        }
        switch (done.protocol()) {
            // PIO data-in ends with the PIO Setup FIS's E_Status: no D2H FIS follows (SATA 3.x, 11.7).
            case PIO_IN -> {
                post(RFIS_PIO_SETUP, ReceivedFis.pioSetup(tf, true, true, lastBlock(done)));
                is |= IS_PSS;
            }
            case PIO_OUT -> {
                post(RFIS_PIO_SETUP, ReceivedFis.pioSetup(tf, false, false, lastBlock(done)));
                post(RFIS_D2H, ReceivedFis.registerD2h(tf, true));
                is |= IS_DHRS;
            }
            default -> {
                post(RFIS_D2H, ReceivedFis.registerD2h(tf, true));
                is |= IS_DHRS;
            }
        }
        tfd = tf.tfd();
        ci &= ~bit;
    }

    private static int lastBlock(Completion done) {
        return (int) Math.min(done.transferred(), 512);
    }

    /** Completes the queued commands that finished so far with one Set Device Bits FIS. */
    private void completeQueued() {
        if (completedTags != 0) setDeviceBits(TaskFile.DRDY | TaskFile.DSC, 0);
    }

    private void setDeviceBits(int status, int error) {
        int tags = completedTags;
        completedTags = 0;
        post(RFIS_SDB, ReceivedFis.setDeviceBits(status, error, tags, true));
        sact &= ~tags;
        // A Set Device Bits FIS carries status bits 6:4 and 2:0 only; BSY and DRQ keep their value.
        tfd = (tfd & 0x88) | (status & 0x77) | (error & 0xff) << 8;
        is |= IS_SDBS;
    }

    private void enterErrorState(int slot, TaskFile tf) {
        is |= IS_TFES;
        halted = true;
        log.debug("{}: slot {} failed: status 0x{}, error 0x{}", name, slot, Integer.toHexString(tf.status()), Integer.toHexString(tf.error()));
    }

    /** A control FIS: setting SRST holds the device in reset, clearing it resets the device (signature FIS). */
    private void deviceControl(int slot, CommandFis fis) {
        if ((fis.control() & CommandFis.CONTROL_SRST) != 0) {
            softResetAsserted = true;
            tfd = TaskFile.BSY;
        } else if (softResetAsserted) {
            softResetAsserted = false;
            device.reset();
            TaskFile signature = device.resetTaskFile();
            tfd = signature.tfd();
            sig = signature.signature();
            post(RFIS_D2H, ReceivedFis.registerD2h(signature, false));
        }
        ci &= ~(1 << slot);
    }

    private void fatal(int bits, String format, Object... args) {
        is |= bits;
        halted = true;
        errors.report(format, args);
    }

    /** Stores a received FIS when FIS reception is on; a bad FB is a host bus fatal error. */
    private void post(int offset, byte[] fis) {
        if ((cmd & CMD_FRE) == 0) return;
        try {
            memory.write(fisBase + offset, fis);
        } catch (GuestMemoryException e) {
            fatal(IS_HBFS, "received-FIS area at guest address 0x%x is outside guest RAM", fisBase);
        }
    }

    private byte[] readGuest(String what, long address, int length) {
        try {
            return memory.readBytes(address, length);
        } catch (GuestMemoryException e) {
            throw DmaFault.outsideRam(what, address, length);
        }
    }

    private void writeGuestInt(long address, int value) {
        try {
            memory.writeInt(address, value);
        } catch (GuestMemoryException e) {
            throw DmaFault.outsideRam("command header", address, 4);
        }
    }

    /** Guest mistakes this port has logged since start. */
    long guestErrors() {
        return errors.count();
    }
}

package org.jhyve.devices.ahci;

import static org.jhyve.devices.ahci.AhciRegisters.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.jhyve.devices.log.GuestErrorLog;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.GuestMemoryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One AHCI port with its device (AHCI 1.3, 3.3 and 5): the port registers, the link (COMRESET through PxSCTL),
 * and the command engine. A PxCI write only records the bits and wakes one of the port's {@link PortWorker}s,
 * which take the commands lowest issued slot first: {@link #nextCommand} reads the header from the command list
 * and the command FIS from the command table, the device executes without the HBA's lock, and {@link #complete}
 * posts the ending FIS to the received-FIS area (when FRE is set), setting PxTFD, PxCI and the PxIS bits.
 * Native queued commands (NCQ) run in parallel, each on its own worker (up to the device's {@link
 * SataDevice#parallelCommands}; workers start when there is a command for them, as bhyve's block-interface
 * threads serve one disk), and each completes with its own Set Device Bits FIS as soon as it is done; any other
 * command runs alone, once the queued ones in flight have returned. Every method but {@link #device}, {@link
 * #awaitWorkerEnd} and {@link #guestErrors} is called with the HBA's lock held (asserted), by the vCPU threads
 * writing registers and by the port's workers alike.
 *
 * <p>Resets do not wait for the command in hand: clearing PxCMD.ST, a COMRESET and GHC.HR each bump the port's
 * generation, and a completion from an older generation is dropped (no FIS, no PxIS bit, no interrupt).
 * PxCMD.CR stays set until the commands executing have returned, and a device reset (with its signature FIS)
 * waits for them too, so nothing the old command does can land after the reset has visibly ended.
 *
 * <p>Errors follow the specification's two kinds. A command the device fails (ERR in its ending status) sets
 * PxIS.TFES and leaves its PxCI bit set. A guest address outside RAM (command list, command table, PRD table,
 * data buffer, received-FIS area) sets PxIS.HBFS; a PRD table shorter than the data sets PxIS.OFS and IFS.
 * After either the port processes nothing more until software clears PxCMD.ST, as a real HBA, and one line
 * naming the guest address goes to the log.
 *
 * <p>A fault of the model itself (an exception from the device or while completing) fails the port with
 * PxIS.IFS and is logged once with its stack trace, then rate-limited; the worker serves on after the guest's
 * recovery. A worker that ended all the same is replaced at the next GHC.HR or COMRESET. After the HBA is closed
 * a command that returns late is dropped: nothing reaches guest memory or the interrupt.
 */
final class AhciPort {
    private static final Logger log = LoggerFactory.getLogger(AhciPort.class);
    private static final int SIGNATURE_NONE = 0xffff_ffff;

    private final String name;
    private final SataDevice device;
    private final GuestMemory memory;
    private final PortHost host;
    private final String threadName;
    private final GuestErrorLog errors;
    /** The workers started so far (at most {@link #maxWorkers}); a worker that ended is dropped at the next reset. */
    private final List<PortWorker> workers = new ArrayList<>();
    private final int maxWorkers;
    private boolean closed;

    private long commandList, fisBase;
    private int is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci, currentSlot;
    private boolean linkUp;
    /** TFES or a fatal error happened: nothing is processed until ST is cleared. */
    private boolean halted;
    /** SRST was set by a control FIS; clearing it resets the device. */
    private boolean softResetAsserted;
    /** Queued commands finished in this run of the command list, completed together by one Set Device Bits FIS. */
    private int completedTags;
    /** The slots whose commands a worker is executing. */
    private int running;
    /** The command executing is not a queued one: nothing else starts until it has returned. */
    private boolean exclusiveRunning;
    /** Bumped by every reset that drops commands: completions of older generations are discarded. */
    private int generation;
    /** A reset came while commands were executing: the device resets, and sends its signature, after they return. */
    private boolean deviceResetDeferred, signatureDeferred;
    /** GHC.HR came while commands were executing: the HBA reports the reset done once they have returned. */
    private boolean hbaResetDraining;

    AhciPort(String name, int index, SataDevice device, PortHost host) {
        this.name = name;
        this.device = device;
        this.memory = host.memory();
        this.host = host;
        this.threadName = "jhyve-ahci-" + host.hbaName() + "-p" + index;
        this.maxWorkers = Math.max(1, device.parallelCommands());
        this.errors = new GuestErrorLog(log, name);
        resetPort(); // not yet shared: no lock needed
    }

    /** Whether this thread holds the HBA's lock, as every method touching the registers needs. */
    private boolean locked() {
        return host.lock().isHeldByCurrentThread();
    }

    /** The device; its {@code execute} runs on the worker without the lock. */
    SataDevice device() { return device; }

    /** GHC.HR (and power-on): registers to their reset values, then the link comes up with the device's signature. */
    void hbaReset() {
        assert locked();
        resetPort();
    }

    private void resetPort() {
        replaceDeadWorkers();
        is = ie = cmd = sctl = serr = sact = ci = currentSlot = 0;
        halted = softResetAsserted = false;
        completedTags = 0;
        generation++;
        hbaResetDraining = running != 0;
        resetDevice();
        linkEstablished();
    }

    /** Whether a command started before GHC.HR is still executing (GHC.HR then still reads 1). */
    boolean hbaResetDraining() {
        assert locked();
        return hbaResetDraining;
    }

    /** Whether this port asks for an interrupt: a PxIS bit that PxIE enables. */
    boolean interruptPending() {
        assert locked();
        return (is & ie) != 0;
    }

    int read(int offset) {
        assert locked();
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
        assert locked();
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
                    wakeWorker();
                }
            }
            default -> { } // TFD, SIG, SSTS are read-only; the rest is not implemented
        }
    }

    private boolean started() {
        return (cmd & CMD_ST) != 0;
    }

    /**
     * SUD and POD read as one (no staggered spin-up, no cold presence detection); FR follows FRE; CR is set while
     * ST is, and after ST is cleared until the commands executing have returned (AHCI 1.3, 10.3.2).
     */
    private int commandRegister() {
        int v = cmd | CMD_SUD | CMD_POD | currentSlot << CMD_CCS_SHIFT;
        if ((cmd & CMD_ST) != 0 || running != 0) v |= CMD_CR;
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
            generation++;
        } else if (!wasStarted && started()) {
            wakeWorker();
        }
    }

    /**
     * PxSCTL.DET = 1 holds the link in COMRESET; writing 0 after it lets the link come up again, and the device
     * then sends its signature. DET = 4 (phy offline) keeps the link down too. Software may only do this with ST
     * clear; if it does not, the issued commands die with the link.
     */
    private void writeSataControl(int value) {
        int before = sctl & DET_MASK;
        sctl = value & 0xfff; // DET, SPD, IPM; PMP and SPM are for port multipliers
        int det = value & DET_MASK;
        if (det != 0) {
            replaceDeadWorkers();
            linkUp = false;
            ssts = 0;
            sig = SIGNATURE_NONE;
            tfd = TaskFile.BSY;
            ci = sact = completedTags = 0;
            generation++;
            signatureDeferred = false;
            resetDevice();
        } else if (before != 0) {
            linkEstablished();
        }
    }

    /**
     * The phy is up at the speed PxSCTL.SPD allows (Gen3 when it does not limit), and the device's reset FIS
     * arrives; while commands are still executing the device stays busy (PxTFD.BSY) and signals later.
     */
    private void linkEstablished() {
        int limit = (sctl >>> SPD_SHIFT) & 0xf;
        int speed = limit >= 1 && limit <= GEN3 ? limit : GEN3;
        linkUp = true;
        ssts = DET_PRESENT_PHY_UP | speed << SPD_SHIFT | IPM_ACTIVE;
        if (running != 0) {
            tfd = TaskFile.BSY;
            sig = SIGNATURE_NONE;
            signatureDeferred = true;
            return;
        }
        sendSignature();
    }

    private void sendSignature() {
        TaskFile signature = device.resetTaskFile();
        tfd = signature.tfd();
        sig = signature.signature();
        post(RFIS_D2H, ReceivedFis.registerD2h(signature, false));
    }

    /** A device reset; while commands execute, the device's state is their workers', so the reset waits for them. */
    private void resetDevice() {
        if (running != 0) deviceResetDeferred = true;
        else device.reset();
    }

    /**
     * A worker that ended (only an {@link Error} ends one) is forgotten, so that a new one starts when there is
     * work: the guest's reset, which Linux's error handler does after a command timed out, revives the port. Its
     * command, if it had one, will never return: its slot is free again, and the resets that waited for it happen
     * once no other command is executing.
     */
    private void replaceDeadWorkers() {
        for (Iterator<PortWorker> it = workers.iterator(); it.hasNext(); ) {
            PortWorker w = it.next();
            if (w.alive()) continue;
            it.remove();
            errors.report("a worker of the port had ended; a new one starts when there is work");
            IssuedCommand lost = w.current();
            if (lost != null) returned(lost);
        }
    }

    /**
     * Hands the port's work to a worker: one without a command (it is waiting, or about to look for work), else a
     * new one while there are fewer than {@link #maxWorkers}; when all are executing, each looks for more as soon
     * as its command returns.
     */
    private void wakeWorker() {
        if (closed) return;
        for (PortWorker w : workers) {
            if (w.current() == null) {
                w.signal();
                return;
            }
        }
        if (workers.size() < maxWorkers) {
            PortWorker w = new PortWorker(workers.isEmpty() ? threadName : threadName + "-" + workers.size(), this, host);
            try {
                w.start();
            } catch (RuntimeException e) {
                // No thread to be had (the host is out of them): the workers there are take the commands in turn.
                if (workers.isEmpty()) throw e;
                errors.fault("could not start another worker", e);
                return;
            }
            workers.add(w);
            w.signal();
        }
    }

    /**
     * The next command for a worker to execute, lowest issued slot not yet executing first, or null when there is
     * none (engine stopped, port halted, link down, PxCI empty, every issued command executing, or a command that
     * must run alone waiting for the queued ones in flight). Commands that need no device (control FISes,
     * malformed ones, bad addresses) are handled here; queued commands finished so far complete when nothing is
     * left. The worker that takes a command calls {@link #commandTaken} next.
     */
    IssuedCommand nextCommand() {
        assert locked();
        if (exclusiveRunning || closed) return null;
        while (runnable()) {
            int candidates = ci & ~running;
            if (candidates == 0) return null; // each executing command completes on its own
            if (!host.busMasterEnabled().getAsBoolean()) {
                fatal(IS_HBFS, "command list at guest address 0x%x: bus mastering is disabled in the PCI command register", commandList);
                break;
            }
            int slot = Integer.numberOfTrailingZeros(candidates);
            currentSlot = slot;
            IssuedCommand command = fetch(slot);
            if (command == NOT_YET) return null;
            if (command != null) {
                running |= 1 << slot;
                if (!command.queued()) exclusiveRunning = true;
                return command;
            }
        }
        completeQueued();
        return null;
    }

    /** A worker holds the command {@link #nextCommand} gave it: queued commands still waiting get another worker. */
    void commandTaken() {
        assert locked();
        if (!exclusiveRunning && runnable() && (ci & ~running) != 0) wakeWorker();
    }

    /** What {@link #fetch} returns for a command that must run alone while queued ones are still executing. */
    private static final IssuedCommand NOT_YET = new IssuedCommand(-1, false, 0, null, 0);

    private boolean runnable() {
        return started() && !halted && linkUp && ci != 0;
    }

    /** Reads slot {@code slot}'s header and command FIS; null when the command was dealt with already. */
    private IssuedCommand fetch(int slot) {
        long headerAddress = commandList + (long) COMMAND_HEADER_SIZE * slot;
        try {
            CommandHeader header = CommandHeader.parse(readGuest("command header " + slot, headerAddress, COMMAND_HEADER_SIZE));
            long table = header.tableAddress();
            CommandFis fis = CommandFis.parse(readGuest("command FIS of slot " + slot, table + TABLE_CFIS, CommandFis.LENGTH));
            if (fis.type() != CommandFis.TYPE_REGISTER_H2D || header.cfisDwords() < CommandFis.LENGTH / 4) {
                errors.report("slot %d: command table at guest address 0x%x holds FIS type 0x%02x of %d dwords, not a register H2D FIS",
                        slot, table, fis.type(), header.cfisDwords());
                finish(slot, false, Completion.nonData(TaskFile.aborted()));
                return null;
            }
            boolean queued = fis.command() && device.isQueued(fis);
            if (!queued && running != 0) return NOT_YET;
            if (!fis.command()) {
                deviceControl(slot, fis);
                return null;
            }
            if (queued && (fis.queuedTag() != slot || (sact & 1 << slot) == 0)) {
                errors.report("slot %d: queued command with tag %d, PxSACT 0x%08x: the tag must be the slot and active", slot, fis.queuedTag(), sact);
                finish(slot, false, Completion.nonData(TaskFile.aborted()));
                return null;
            }
            if (!queued) completeQueued();
            byte[] packet = fis.opcode() == AtaOpcodes.PACKET ? readGuest("ATAPI command of slot " + slot, table + TABLE_ACMD, ACMD_BYTES) : new byte[ACMD_BYTES];
            PrdTable data = new PrdTable(memory, table + TABLE_PRDT, header.prdtLength());
            return new IssuedCommand(slot, queued, headerAddress, new AtaCommand(fis, packet, data), generation);
        } catch (DmaFault f) {
            dmaFault(slot, f);
        } catch (RuntimeException e) {
            internalError(slot, e);
        }
        return null;
    }

    /**
     * A worker's command has returned from the device. Unless a reset came meanwhile (then it is dropped, and
     * the resets that waited for it happen once no other command executes), its ending FIS, PxTFD, PxCI and PxIS
     * bits are set as the command's protocol asks; a queued one completes at once with a Set Device Bits FIS.
     */
    void complete(IssuedCommand command, CommandOutcome outcome) {
        assert locked();
        if (closed) {
            // The HBA was closed while this command ran (it gave up waiting): nothing of it reaches the guest now.
            forget(command);
            if (running == 0) hbaResetDraining = false;
            log.debug("{}: slot {} returned after the HBA closed: its completion is dropped", name, command.slot());
            return;
        }
        returned(command);
        int slot = command.slot();
        if (command.generation() != generation) {
            log.debug("{}: slot {} returned after a reset: its completion is dropped", name, slot);
            return;
        }
        if (halted && command.queued()) {
            // Another queued command failed while this one ran: the drive aborts what is outstanding (its PxSACT bit
            // stays), and the guest's error handling retries it after reading the NCQ error log.
            log.debug("{}: slot {} returned after the port stopped at an error: its completion is dropped", name, slot);
            return;
        }
        try {
            switch (outcome) {
                case CommandOutcome.Done(Completion done) -> {
                    if (!command.queued()) writeGuestInt(command.headerAddress() + CommandHeader.PRDBC_OFFSET, (int) done.transferred());
                    finish(slot, command.queued(), done);
                }
                case CommandOutcome.Faulted(DmaFault f) -> dmaFault(slot, f);
                case CommandOutcome.Crashed(Throwable e) -> internalError(slot, e);
            }
        } catch (DmaFault f) {
            dmaFault(slot, f);
        } catch (RuntimeException e) {
            internalError(slot, e);
        }
        // A queued command's PxSACT bit clears as soon as it is done: the others may take a while yet.
        if (command.queued() || !runnable()) completeQueued();
    }

    /** {@code command} no longer executes: its slot may be taken again. */
    private void forget(IssuedCommand command) {
        running &= ~(1 << command.slot());
        if (!command.queued()) exclusiveRunning = false;
    }

    /** {@code command} has returned (or never will); once none executes, the resets that waited happen. */
    private void returned(IssuedCommand command) {
        forget(command);
        if (running == 0) allReturned();
    }

    /** No command executes any more: CR may clear, and the resets that waited for them happen. */
    private void allReturned() {
        hbaResetDraining = false;
        if (deviceResetDeferred) {
            deviceResetDeferred = false;
            device.reset();
        }
        if (signatureDeferred) {
            signatureDeferred = false;
            sendSignature();
        }
    }

    /**
     * The worker caught {@code e} fetching ({@code command} null) or completing {@code command}: a bug of the
     * model, not the guest's doing, but one a guest may be able to repeat. The command in hand counts as returned,
     * and unless a reset came meanwhile, the port stops with an interface fatal error (PxIS.IFS) until software
     * clears ST, as on an internal error; the worker lives on.
     */
    void workerFault(IssuedCommand command, RuntimeException e) {
        assert locked();
        if (command != null) returned(command);
        if (command != null && command.generation() != generation) {
            errors.fault("fault completing slot " + command.slot() + " (dropped by a reset)", e);
            return;
        }
        is |= IS_IFS;
        halted = true;
        errors.fault(command == null ? "fault fetching a command" : "fault completing slot " + command.slot(), e);
    }

    private void dmaFault(int slot, DmaFault f) {
        fatal(f.kind() == DmaFault.Kind.OUTSIDE_GUEST_RAM ? IS_HBFS : IS_OFS | IS_IFS, "slot %d: %s", slot, f.getMessage());
    }

    /** A bug in the device model must not reach the vCPU or the worker: fail the port as a real HBA would on an internal error. */
    private void internalError(int slot, Throwable e) {
        is |= IS_IFS;
        halted = true;
        errors.fault("slot " + slot + ": internal error", e);
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
            sendSignature();
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

    /** Stops the workers (each once its command in hand is done); no new one starts. */
    void stopWorker() {
        assert locked();
        closed = true;
        for (PortWorker w : workers) w.stop();
    }

    /** Waits up to {@code timeout} in all for the workers to end; whether they have (or none started). Called without the lock. */
    boolean awaitWorkerEnd(Duration timeout) throws InterruptedException {
        List<PortWorker> all;
        host.lock().lock();
        try {
            all = List.copyOf(workers);
        } finally {
            host.lock().unlock();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean ended = true;
        for (PortWorker w : all) ended &= w.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        return ended;
    }

    /** For tests: the workers have seen every PxCI write and have nothing to run. */
    boolean quiescent() {
        assert locked();
        for (PortWorker w : workers) if (!w.idle()) return false;
        return true;
    }

    /** Guest mistakes this port has logged since start. */
    long guestErrors() {
        return errors.count();
    }
}

package org.jhyve.devices.ahci;

import static org.jhyve.devices.ahci.AtaOpcodes.*;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.devices.log.GuestErrorLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ATAPI CD-ROM (MMC-6 over the ATA PACKET command) holding a read-only image of 2048-byte blocks: one
 * data track. ATA side: PACKET, IDENTIFY PACKET DEVICE, SET FEATURES (transfer mode), the power commands and
 * DEVICE RESET; IDENTIFY DEVICE aborts with the ATAPI signature so a driver learns what it talks to. SCSI
 * side: the commands a guest needs to find, mount and read a disc. A refused command ends with CHK in the
 * status, the sense key in the error register, and its sense data kept for REQUEST SENSE.
 */
final class AtapiCdrom implements SataDevice {
    private static final Logger log = LoggerFactory.getLogger(AtapiCdrom.class);

    static final String MODEL = "jhyve CD-ROM";
    static final int BLOCK_SIZE = MmcResponses.BLOCK_SIZE;
    /** The count register of a finished PACKET command: interrupt reason I/O and C/D both set. */
    private static final int REASON_COMMAND_COMPLETE = 0x03;

    // SCSI operation codes (SPC-3, MMC-6)
    static final int TEST_UNIT_READY = 0x00, REQUEST_SENSE = 0x03, INQUIRY = 0x12, MODE_SENSE_6 = 0x1a, START_STOP_UNIT = 0x1b;
    static final int PREVENT_ALLOW_MEDIUM_REMOVAL = 0x1e, READ_CAPACITY_10 = 0x25, READ_10 = 0x28, WRITE_10 = 0x2a, SEEK_10 = 0x2b;
    static final int WRITE_AND_VERIFY_10 = 0x2e, READ_TOC = 0x43, GET_CONFIGURATION = 0x46, GET_EVENT_STATUS_NOTIFICATION = 0x4a;
    static final int MODE_SENSE_10 = 0x5a, READ_12 = 0xa8, WRITE_12 = 0xaa, MECHANISM_STATUS = 0xbd;

    private final BlockBackend backend;
    private final AhciDriveOptions options;
    private final long blocks;
    private final GuestErrorLog errors;
    private ScsiSense sense = ScsiSense.NO_SENSE;
    private TransferMode transferMode = TransferMode.DEFAULT;
    private boolean removalPrevented;
    /** A freshly started drive reports its disc as new media once, as after inserting it. */
    private boolean newMediaEvent = true;

    AtapiCdrom(String name, BlockBackend backend, AhciDriveOptions options) {
        this.backend = backend;
        this.options = options;
        this.blocks = backend.size() / BLOCK_SIZE;
        this.errors = new GuestErrorLog(log, name);
    }

    @Override
    public TaskFile resetTaskFile() {
        // Signature 0xEB140101: LBA mid 14h, LBA high EBh. A packet device clears DRDY after a reset.
        return new TaskFile(0, 0x01, 0, 0xeb1401, 1);
    }

    @Override
    public void reset() {
        sense = ScsiSense.NO_SENSE;
    }

    /** A CD-ROM has no queued commands: one at a time. */
    @Override
    public int parallelCommands() { return 1; }

    @Override
    public boolean isQueued(CommandFis fis) {
        return false;
    }

    @Override
    public String describe() {
        return options.path() + " (ATAPI CD-ROM)";
    }

    @Override
    public Completion execute(AtaCommand c) {
        CommandFis f = c.fis();
        return switch (f.opcode()) {
            case PACKET -> packet(c);
            case IDENTIFY_PACKET_DEVICE -> {
                byte[] id = identifyPacket();
                c.data().write(id);
                yield new Completion(Protocol.PIO_IN, TaskFile.ok(), id.length);
            }
            // ATA8-ACS: a packet device aborts IDENTIFY DEVICE and shows its signature, so the host retries with A1h.
            case IDENTIFY_DEVICE -> Completion.nonData(new TaskFile(TaskFile.DRDY | TaskFile.ERR, TaskFile.ABRT, 0, 0xeb1401, 1));
            case SET_FEATURES -> {
                Optional<TransferMode> mode = TransferMode.of(f.count() & 0xff);
                if ((f.features() & 0xff) != SF_SET_TRANSFER_MODE || mode.isEmpty()) yield Completion.nonData(TaskFile.aborted());
                transferMode = mode.get();
                yield Completion.nonData(TaskFile.ok());
            }
            case CHECK_POWER_MODE -> Completion.nonData(TaskFile.ok().withCount(POWER_ACTIVE_OR_IDLE));
            case IDLE_IMMEDIATE, STANDBY_IMMEDIATE -> Completion.nonData(TaskFile.ok());
            case DEVICE_RESET, EXECUTE_DEVICE_DIAGNOSTIC -> {
                reset();
                yield Completion.nonData(resetTaskFile());
            }
            default -> Completion.nonData(TaskFile.aborted());
        };
    }

    /** One SCSI command from the packet. Every command but REQUEST SENSE replaces the sense data. */
    private Completion packet(AtaCommand c) {
        byte[] cdb = c.packet();
        int op = cdb[0] & 0xff;
        return switch (op) {
            case TEST_UNIT_READY -> mediumPresent() ? good() : checkCondition(ScsiSense.MEDIUM_NOT_PRESENT);
            case REQUEST_SENSE -> {
                byte[] data = sense.fixedFormat();
                sense = ScsiSense.NO_SENSE;
                yield dataIn(c, data, cdb[4] & 0xff);
            }
            case INQUIRY -> inquiry(c, cdb);
            case READ_CAPACITY_10 -> mediumPresent() ? dataIn(c, MmcResponses.readCapacity(blocks), 8) : checkCondition(ScsiSense.MEDIUM_NOT_PRESENT);
            case READ_10 -> read(c, be32(cdb, 2), be16(cdb, 7));
            case READ_12 -> read(c, be32(cdb, 2), be32(cdb, 6));
            case SEEK_10 -> !mediumPresent() ? checkCondition(ScsiSense.MEDIUM_NOT_PRESENT)
                    : be32(cdb, 2) < blocks ? good() : checkCondition(ScsiSense.LBA_OUT_OF_RANGE);
            case MODE_SENSE_10 -> modeSense(c, cdb, true);
            case MODE_SENSE_6 -> modeSense(c, cdb, false);
            case READ_TOC -> readToc(c, cdb);
            case GET_CONFIGURATION -> dataIn(c, MmcResponses.configuration(cdb[1] & 0x03, be16(cdb, 2), mediumPresent()), be16(cdb, 7));
            case GET_EVENT_STATUS_NOTIFICATION -> eventStatus(c, cdb);
            case START_STOP_UNIT -> startStop(cdb);
            case PREVENT_ALLOW_MEDIUM_REMOVAL -> {
                removalPrevented = (cdb[4] & 0x01) != 0;
                yield good();
            }
            case MECHANISM_STATUS -> dataIn(c, MmcResponses.mechanismStatus(), be16(cdb, 8));
            case WRITE_10, WRITE_12, WRITE_AND_VERIFY_10 -> checkCondition(ScsiSense.WRITE_PROTECTED);
            default -> {
                log.debug("{}: SCSI command 0x{} not supported", describe(), Integer.toHexString(op));
                yield checkCondition(ScsiSense.INVALID_COMMAND_OPERATION_CODE);
            }
        };
    }

    private Completion inquiry(AtaCommand c, byte[] cdb) {
        int allocation = be16(cdb, 3);
        if ((cdb[1] & 0x01) == 0) return cdb[2] == 0 ? dataIn(c, MmcResponses.inquiry(), allocation) : checkCondition(ScsiSense.INVALID_FIELD_IN_CDB);
        return cdb[2] == 0 ? dataIn(c, MmcResponses.supportedVpdPages(), allocation) : checkCondition(ScsiSense.INVALID_FIELD_IN_CDB);
    }

    /** READ(10)/(12): whole 2048-byte blocks straight from the image into the guest's buffers. */
    private Completion read(AtaCommand c, long lba, long count) {
        if (!mediumPresent()) return checkCondition(ScsiSense.MEDIUM_NOT_PRESENT);
        if (lba < 0 || lba > blocks || count > blocks - lba) {
            errors.report("READ of %d blocks at LBA %d is past the end of the disc (%d blocks)", count, lba, blocks);
            return checkCondition(ScsiSense.LBA_OUT_OF_RANGE);
        }
        long bytes = count * BLOCK_SIZE;
        List<MemorySegment> buffers = c.data().segments(0, bytes);
        try {
            if (bytes > 0) backend.read(lba * BLOCK_SIZE, buffers);
        } catch (IOException e) {
            log.warn("{}: read of {} blocks at LBA {} failed: {}", describe(), count, lba, e.getMessage());
            return checkCondition(ScsiSense.UNRECOVERED_READ_ERROR);
        }
        sense = ScsiSense.NO_SENSE;
        return new Completion(Protocol.PACKET, packetDone(), bytes);
    }

    private Completion modeSense(AtaCommand c, byte[] cdb, boolean ten) {
        int pageControl = (cdb[2] & 0xc0) >>> 6, pageCode = cdb[2] & 0x3f;
        if (pageControl == 3) return checkCondition(ScsiSense.SAVING_PARAMETERS_NOT_SUPPORTED);
        Optional<byte[]> pages = MmcResponses.modePages(pageCode, pageControl, removalPrevented);
        if (pages.isEmpty()) return checkCondition(ScsiSense.INVALID_FIELD_IN_CDB);
        return ten ? dataIn(c, MmcResponses.modeSense10(pages.get()), be16(cdb, 7))
                : dataIn(c, MmcResponses.modeSense6(pages.get()), cdb[4] & 0xff);
    }

    /** READ TOC: the format is in byte 2 (MMC) or, from older drivers, in bits 7:6 of byte 9 (SFF-8020). */
    private Completion readToc(AtaCommand c, byte[] cdb) {
        if (!mediumPresent()) return checkCondition(ScsiSense.MEDIUM_NOT_PRESENT);
        int format = cdb[2] & 0x0f;
        if (format == 0) format = (cdb[9] & 0xc0) >>> 6;
        boolean msf = (cdb[1] & 0x02) != 0;
        Optional<byte[]> toc = MmcResponses.readToc(format, msf, cdb[6] & 0xff, blocks);
        return toc.isPresent() ? dataIn(c, toc.get(), be16(cdb, 7)) : checkCondition(ScsiSense.INVALID_FIELD_IN_CDB);
    }

    private Completion eventStatus(AtaCommand c, byte[] cdb) {
        // Asynchronous notification is not supported: only polled requests.
        if ((cdb[1] & 0x01) == 0) return checkCondition(ScsiSense.INVALID_FIELD_IN_CDB);
        boolean media = (cdb[4] & 0x10) != 0;
        byte[] data = MmcResponses.eventStatus(media, media && newMediaEvent, mediumPresent());
        if (media) newMediaEvent = false;
        return dataIn(c, data, be16(cdb, 7));
    }

    /** START STOP UNIT: spinning up or down means nothing for an image; an eject is refused while locked. */
    private Completion startStop(byte[] cdb) {
        boolean loadEject = (cdb[4] & 0x02) != 0, start = (cdb[4] & 0x01) != 0;
        if (loadEject && !start && removalPrevented) return checkCondition(new ScsiSense(ScsiSense.KEY_ILLEGAL_REQUEST, 0x53, 0x02));
        return good();
    }

    /**
     * Sends {@code data} cut to the allocation length the command gave, and to the buffers the guest provided:
     * a driver that asks for less than a whole answer gets the start of it, as from a real drive.
     */
    private Completion dataIn(AtaCommand c, byte[] data, int allocation) {
        long n = c.data().available(Math.min(data.length, allocation));
        if (n > 0) c.data().write(java.util.Arrays.copyOf(data, (int) n));
        sense = ScsiSense.NO_SENSE;
        return new Completion(Protocol.PACKET, packetDone(), n);
    }

    private Completion good() {
        sense = ScsiSense.NO_SENSE;
        return new Completion(Protocol.PACKET, packetDone(), 0);
    }

    private Completion checkCondition(ScsiSense s) {
        sense = s;
        TaskFile tf = new TaskFile(TaskFile.DRDY | TaskFile.ERR, s.key() << 4, 0, 0, REASON_COMMAND_COMPLETE);
        return new Completion(Protocol.PACKET, tf, 0);
    }

    private static TaskFile packetDone() {
        return TaskFile.ok().withCount(REASON_COMMAND_COMPLETE);
    }

    private boolean mediumPresent() {
        return blocks > 0;
    }

    private static int be16(byte[] b, int at) {
        return (b[at] & 0xff) << 8 | (b[at + 1] & 0xff);
    }

    private static long be32(byte[] b, int at) {
        return (long) (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }

    /** IDENTIFY PACKET DEVICE data (ATA8-ACS 7.17). */
    byte[] identifyPacket() {
        return new IdentifyWords()
                .set(0, 0x85c0)                          // ATAPI, CD-ROM (type 5), removable, 12-byte packets
                .setString(10, 10, options.serialNumber())
                .setString(23, 4, AtaDisk.FIRMWARE)
                .setString(27, 20, MODEL)
                .set(49, 0x0b00)                         // IORDY, LBA, DMA
                .set(50, 0x4000)
                .set(53, 0x0006)
                .set(63, transferMode.word63())
                .set(64, 0x0003)
                .set(65, 120).set(66, 120).set(67, 120).set(68, 120)
                .set(76, 0x000e)                         // SATA Gen1-3, no NCQ
                .set(77, 0x0006)
                .set(80, 0x01f0)
                .set(82, 0x0018)                         // PACKET, power management
                .set(83, 0x4000)
                .set(84, 0x4000)
                .set(85, 0x0018)
                .set(87, 0x4000)
                .set(88, transferMode.word88())
                .toBytes();
    }

    @Override
    public void close() throws IOException {
        backend.close();
    }
}

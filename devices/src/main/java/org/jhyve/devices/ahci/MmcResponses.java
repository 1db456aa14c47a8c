package org.jhyve.devices.ahci;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The data-in answers of a read-only CD-ROM with one data track (SPC-3, MMC-6): INQUIRY, READ CAPACITY,
 * READ TOC, mode pages, GET CONFIGURATION, GET EVENT STATUS NOTIFICATION, MECHANISM STATUS. Multi-byte
 * fields are big-endian, as everywhere in SCSI.
 */
final class MmcResponses {
    static final int BLOCK_SIZE = 2048;
    static final int PERIPHERAL_CD_DVD = 0x05;
    static final String VENDOR = "jhyve", PRODUCT = "CD-ROM", REVISION = "1.0";
    static final int PROFILE_CD_ROM = 0x0008;
    static final int PAGE_ERROR_RECOVERY = 0x01, PAGE_CAPABILITIES = 0x2a, PAGE_ALL = 0x3f;
    static final int LEAD_OUT_TRACK = 0xaa;
    /** Track 1, ADR 1 (position data), control 4 (a data track, not audio). */
    private static final int ADR_CONTROL_DATA = 0x14;

    private MmcResponses() {}

    /** Standard INQUIRY data, 36 bytes: removable CD/DVD device, SPC-3, response format 2. */
    static byte[] inquiry() {
        byte[] d = new byte[36];
        d[0] = PERIPHERAL_CD_DVD;
        d[1] = (byte) 0x80; // RMB: removable medium
        d[2] = 0x05;        // SPC-3
        d[3] = 0x02;        // response data format 2
        d[4] = 31;          // additional length
        ascii(d, 8, 8, VENDOR);
        ascii(d, 16, 16, PRODUCT);
        ascii(d, 32, 4, REVISION);
        return d;
    }

    /** VPD page 00h: the only vital product data page there is is this list. */
    static byte[] supportedVpdPages() {
        return new byte[] {PERIPHERAL_CD_DVD, 0x00, 0x00, 0x01, 0x00};
    }

    /** READ CAPACITY(10): the last LBA and the block length. */
    static byte[] readCapacity(long blocks) {
        return ByteBuffer.allocate(8).putInt((int) Math.min(blocks - 1, 0xffff_ffffL)).putInt(BLOCK_SIZE).array();
    }

    /**
     * READ TOC/PMA/ATIP formats 0 (TOC: track 1 and the lead-out from {@code startTrack}) and 1 (session
     * information: one session starting at track 1). Empty for a request a one-track disc cannot answer.
     */
    static Optional<byte[]> readToc(int format, boolean msf, int startTrack, long blocks) {
        ByteBuffer b = ByteBuffer.allocate(4 + 8 * 2);
        b.position(4);
        if (format == 0) {
            if (startTrack > 1 && startTrack != LEAD_OUT_TRACK) return Optional.empty();
            if (startTrack <= 1) tocDescriptor(b, 1, 0, msf);
            tocDescriptor(b, LEAD_OUT_TRACK, blocks, msf);
        } else if (format == 1) {
            tocDescriptor(b, 1, 0, msf);
        } else {
            return Optional.empty();
        }
        int length = b.position();
        b.putShort(0, (short) (length - 2)).put(2, (byte) 1).put(3, (byte) 1); // first and last track (or session)
        byte[] out = new byte[length];
        b.get(0, out);
        return Optional.of(out);
    }

    private static void tocDescriptor(ByteBuffer b, int track, long lba, boolean msf) {
        b.put((byte) 0).put((byte) ADR_CONTROL_DATA).put((byte) track).put((byte) 0);
        if (msf) {
            long at = lba + 150; // MSF counts the two-second pre-gap
            b.put((byte) 0).put((byte) (at / 75 / 60)).put((byte) (at / 75 % 60)).put((byte) (at % 75));
        } else {
            b.putInt((int) lba);
        }
    }

    /**
     * A mode page for MODE SENSE, with the page control: 0 current, 1 changeable (nothing is: all-zero masks),
     * 2 default (the same as current). Empty for pages this drive does not have.
     */
    static Optional<byte[]> modePages(int pageCode, int pageControl, boolean locked) {
        byte[] pages = switch (pageCode) {
            case PAGE_ERROR_RECOVERY -> errorRecoveryPage();
            case PAGE_CAPABILITIES -> capabilitiesPage(locked);
            case PAGE_ALL -> concat(errorRecoveryPage(), capabilitiesPage(locked));
            default -> null;
        };
        if (pages == null) return Optional.empty();
        if (pageControl == 1) {
            // Changeable values: keep each page's code and length, clear every parameter.
            for (int at = 0; at < pages.length; at += 2 + pages[at + 1]) java.util.Arrays.fill(pages, at + 2, at + 2 + pages[at + 1], (byte) 0);
        }
        return Optional.of(pages);
    }

    /** Read/write error recovery page (01h): default recovery, five read retries. */
    private static byte[] errorRecoveryPage() {
        byte[] p = new byte[12];
        p[0] = PAGE_ERROR_RECOVERY;
        p[1] = 10;
        p[3] = 5; // read retry count
        return p;
    }

    /** CD capabilities and mechanical status page (2Ah, MMC-3 layout): reads CD-ROM, tray, lockable, ejectable. */
    private static byte[] capabilitiesPage(boolean locked) {
        ByteBuffer p = ByteBuffer.allocate(22);
        p.put(0, (byte) PAGE_CAPABILITIES).put(1, (byte) 20);
        p.put(2, (byte) 0x00);                           // reads CD-ROM only: no CD-R/RW, no DVD media
        p.put(3, (byte) 0x00);                           // writes nothing
        p.put(4, (byte) 0x71);                           // multi-session, mode 2 form 1 and 2, audio play
        p.put(5, (byte) 0x03);                           // CD-DA commands, accurate CD-DA stream
        p.put(6, (byte) (0x20 | 0x08 | 0x01 | (locked ? 0x02 : 0))); // tray, eject, lock (and its state)
        p.putShort(8, (short) 7056);                     // maximum read speed, kB/s (40x)
        p.putShort(10, (short) 256);                     // volume levels
        p.putShort(12, (short) 512);                     // buffer size, KiB
        p.putShort(14, (short) 7056);                    // current read speed
        return p.array();
    }

    /** The 8-byte MODE SENSE(10) header before {@code pages}; no block descriptors. */
    static byte[] modeSense10(byte[] pages) {
        ByteBuffer b = ByteBuffer.allocate(8 + pages.length);
        b.putShort(0, (short) (6 + pages.length)); // mode data length: everything after this field
        b.put(8, pages);
        return b.array();
    }

    /** The 4-byte MODE SENSE(6) header before {@code pages}. */
    static byte[] modeSense6(byte[] pages) {
        byte[] d = new byte[4 + pages.length];
        d[0] = (byte) (3 + pages.length);
        System.arraycopy(pages, 0, d, 4, pages.length);
        return d;
    }

    /**
     * GET CONFIGURATION: the feature header (current profile CD-ROM when a disc is in, none otherwise) and the
     * features from {@code startFeature} on: all ({@code rt} 0), the current ones (1), or only that one (2).
     */
    static byte[] configuration(int rt, int startFeature, boolean mediumPresent) {
        ByteBuffer b = ByteBuffer.allocate(256);
        b.position(8);
        int[][] features = {
                // code, version, persistent, current, data...
                {0x0000, 0, 1, 1},  // profile list
                {0x0001, 2, 1, 1},  // core
                {0x0002, 1, 1, 1},  // morphing
                {0x0003, 0, 1, 1},  // removable medium
                {0x0010, 0, 0, mediumPresent ? 1 : 0}, // random readable
                {0x001e, 2, 0, mediumPresent ? 1 : 0}, // CD read
        };
        for (int[] f : features) {
            int code = f[0];
            boolean current = f[3] == 1;
            if (rt == 2 ? code != startFeature : code < startFeature || (rt == 1 && !current)) continue;
            b.putShort((short) code).put((byte) (f[1] << 2 | f[2] << 1 | f[3]));
            switch (code) {
                case 0x0000 -> b.put((byte) 4).putShort((short) PROFILE_CD_ROM).put((byte) (mediumPresent ? 1 : 0)).put((byte) 0);
                case 0x0001 -> b.put((byte) 8).putInt(2 /* ATAPI */).put((byte) 0).put((byte) 0).putShort((short) 0);
                case 0x0002 -> b.put((byte) 4).put((byte) 0x02 /* OCEvent: GET EVENT STATUS NOTIFICATION works */).put((byte) 0).putShort((short) 0);
                case 0x0003 -> b.put((byte) 4).put((byte) (0x20 | 0x08 | 0x01)).put((byte) 0).putShort((short) 0); // tray, eject, lock
                case 0x0010 -> b.put((byte) 8).putInt(BLOCK_SIZE).putShort((short) 1).put((byte) 0).put((byte) 0);
                case 0x001e -> b.put((byte) 4).putInt(0);
                default -> throw new IllegalStateException();
            }
        }
        int length = b.position();
        b.putInt(0, length - 4);
        b.putShort(6, (short) (mediumPresent ? PROFILE_CD_ROM : 0));
        byte[] out = new byte[length];
        b.get(0, out);
        return out;
    }

    /**
     * GET EVENT STATUS NOTIFICATION, polled: a media event (new media once after power-on, then none) when the
     * media class was asked for, otherwise "no event available". Only the media class is supported.
     */
    static byte[] eventStatus(boolean mediaRequested, boolean newMedia, boolean mediumPresent) {
        if (!mediaRequested) return new byte[] {0, 2, (byte) 0x80, 0x10}; // NEA, supported classes: media
        return new byte[] {0, 6, 0x04, 0x10, (byte) (newMedia ? 2 : 0), (byte) (mediumPresent ? 0x02 : 0), 0, 0};
    }

    /** MECHANISM STATUS: no changer, idle, door closed, no slots. */
    static byte[] mechanismStatus() {
        return new byte[8];
    }

    private static void ascii(byte[] d, int at, int width, String text) {
        byte[] t = text.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < width; i++) d[at + i] = i < t.length ? t[i] : (byte) ' ';
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

package org.jhyve.devices.virtio;

import org.jhyve.devices.block.BlockCompletion;
import org.jhyve.devices.block.BlockOutcome;
import org.jhyve.devices.block.BlockRequest;
import org.jhyve.devices.block.BlockRequest.Malformed;
import org.jhyve.devices.block.BlockRequest.Read;
import org.jhyve.devices.block.BlockRequest.Unsupported;
import org.jhyve.devices.block.BlockRequest.Write;
import org.jhyve.jfr.DeviceRequestEvent;
import org.jhyve.jfr.Jfr;

/**
 * One virtio-blk request, from its descriptor chain to its status byte: parsed on the queue worker's thread
 * ({@link #begin}), run by the disk's executor (on an I/O engine's thread, or at once for what needs no disk),
 * and answered where it ended ({@link #completed}): the status byte written, the counters and the JFR event
 * ({@code jhyve.DeviceRequest}, made only while a recording wants it) updated, and the chain handed back to
 * its worker. A queue keeps one per slot and reuses it chain after chain, so the path allocates only what
 * parsing needs.
 *
 * <p>Threading rule: {@link #begin} on the worker thread, then exactly one {@link #completed} or {@link #failed}
 * on whichever thread ended the request; the next {@link #begin} only after the worker has the slot back (the
 * hand-over through {@link InFlightChain} orders one use after the other).
 */
final class BlockChainRequest implements BlockCompletion {
    static final int HEADER = 16;

    private final VirtioBlock device;
    private final byte[] header = new byte[HEADER];
    /**
     * Never committed: asked whether a recording wants the events, so that no event is made when none does.
     * Made once JFR is up ({@link Jfr#started}), not before: the first event class loaded costs JFR's start.
     */
    private DeviceRequestEvent probe;
    /** The worker's slot, or null for a caller that waits for the answer ({@link VirtioBlock#handle}). */
    private InFlightChain inFlight;
    private GuestBuffers out;
    private int type;
    private BlockRequest request;
    private DeviceRequestEvent event;
    private int written;

    BlockChainRequest(VirtioBlock device) {
        this.device = device;
    }

    /**
     * Parses {@code chain} for {@code slot} (null: the caller runs it and reads {@link #written} itself). Returns the
     * request the disk must run, or null when it is answered already (GET_ID, a chain too short to be a request,
     * a malformed or unsupported request), its status written.
     */
    BlockRequest begin(DescriptorChain chain, InFlightChain slot) {
        this.inFlight = slot;
        this.event = null;
        if (Jfr.started()) {
            if (probe == null) probe = new DeviceRequestEvent();
            if (probe.isEnabled()) {
                event = new DeviceRequestEvent();
                event.begin();
            }
        }
        GuestBuffers in = chain.readable();
        out = chain.writable();
        if (in.length() < HEADER || out.length() < 1) {
            // Without a header or a status byte there is nothing to answer: complete it empty.
            device.count(device.executor().execute(Malformed.of("descriptor chain at head %d has %d readable / %d writable bytes, too few for a request",
                    chain.head(), in.length(), out.length())));
            if (event != null) event.complete(device.name(), "bad", 0, "none");
            written = 0;
            return null;
        }
        in.read(0, header);
        type = littleEndianInt(0);
        if (type == VirtioBlock.T_GET_ID) {
            written = 1 + (int) device.answerId(out);
            answer(VirtioBlock.S_OK, 0);
            return null;
        }
        request = device.parse(type, littleEndianLong(8), in, out);
        if (request instanceof Malformed || request instanceof Unsupported) {
            finish(device.executor().execute(request)); // refused at once, without the disk
            return null;
        }
        return request;
    }

    /** Bytes written into the chain's writable buffers, status byte included, once answered. */
    int written() {
        return written;
    }

    /** The disk ran the request: answer it, and hand the chain back to the worker. Any thread. */
    @Override
    public void completed(BlockOutcome outcome) {
        InFlightChain slot = inFlight;
        try {
            finish(outcome);
        } catch (RuntimeException e) {
            slot.fail(e); // the status byte could not be written (a device bug): the worker fails the queue
            return;
        }
        slot.complete(written);
    }

    @Override
    public void failed(RuntimeException fault) {
        inFlight.fail(fault);
    }

    /** Writes the status the outcome makes; counts and records it. */
    void finish(BlockOutcome outcome) {
        device.count(outcome);
        int status = switch (outcome) {
            case OK -> VirtioBlock.S_OK;
            case UNSUPPORTED -> VirtioBlock.S_UNSUPP;
            case GUEST_ERROR, READ_ONLY, HOST_ERROR -> VirtioBlock.S_IOERR;
        };
        long moved = 0; // data bytes between guest and disk, for the JFR event
        written = 1;
        if (outcome == BlockOutcome.OK && request instanceof Read r) {
            written += (int) r.bytes();
            moved = r.bytes();
        }
        if (outcome == BlockOutcome.OK && request instanceof Write w) moved = w.bytes();
        request = null;
        answer(status, moved);
    }

    private void answer(int status, long moved) {
        out.writeByte(out.length() - 1, (byte) status);
        if (event != null) {
            event.complete(device.name(), VirtioBlock.requestName(type), moved,
                    status == VirtioBlock.S_OK ? "ok" : status == VirtioBlock.S_UNSUPP ? "unsupp" : "ioerr");
            event = null;
        }
        out = null;
    }

    private int littleEndianInt(int at) {
        return littleEndianInt(header, at);
    }

    private long littleEndianLong(int at) {
        return Integer.toUnsignedLong(littleEndianInt(at)) | (long) littleEndianInt(at + 4) << 32;
    }

    static int littleEndianInt(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }
}

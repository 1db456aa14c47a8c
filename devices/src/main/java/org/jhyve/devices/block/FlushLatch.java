package org.jhyve.devices.block;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flushes of one image, with what a failed fdatasync means. Linux reports a writeback error to fdatasync
 * once and then forgets it (the dirty pages are dropped or marked clean), so a second fdatasync succeeds
 * although the writes before the first one may never reach the disk ("fsyncgate", PostgreSQL 2018). A
 * guest told "flushed" after that would trust data that is gone. So once a sync fails, every later flush
 * fails too, for as long as the image is open, and the first failure is logged once at error level.
 *
 * <p>Syncs run one at a time: if two ran side by side, the kernel could report the error to one and let the
 * other succeed before the failure is recorded. A flush that waited while another thread's sync ran reuses
 * a sync that started after it was issued (it covers every write that completed before), instead of
 * queueing a sync of its own: several queues flushing at once cost one fdatasync, not several in a row.
 *
 * <p>Threading: any thread may call {@link #flush}; a sync never runs concurrently with another.
 */
final class FlushLatch {
    /** The host call that makes completed writes durable (fdatasync). */
    @FunctionalInterface
    interface Sync {
        void run() throws IOException;
    }

    private final Logger log;
    private final String path;
    private final Sync sync;
    private final Object lock = new Object();
    /** Flushes issued so far; each takes the next number when it starts. */
    private final AtomicLong issued = new AtomicLong();
    /** Every flush numbered up to this one is covered by a sync that succeeded. Guarded by {@link #lock}. */
    private long coveredUpTo;
    /** The sync failure that ended this image's durability, or null. Guarded by {@link #lock}. */
    private IOException failure;

    FlushLatch(String path, Sync sync) {
        this(LoggerFactory.getLogger(FlushLatch.class), path, sync);
    }

    FlushLatch(Logger log, String path, Sync sync) {
        this.log = log;
        this.path = path;
        this.sync = sync;
    }

    /** Returns once every write that completed before this call is durable; throws if that cannot be said. */
    void flush() throws IOException {
        long ticket = issued.incrementAndGet();
        synchronized (lock) {
            if (failure != null) throw refused();
            if (coveredUpTo >= ticket) return;
            long covers = issued.get(); // every flush numbered up to here was issued before this sync starts
            try {
                sync.run();
            } catch (IOException e) {
                failure = e;
                log.error("{}: fdatasync failed ({}): writes since the last good flush may be lost; every later flush of this disk fails "
                        + "until it is reopened (check the host's storage and the image before trusting it)", path, e.getMessage());
                throw e;
            }
            coveredUpTo = covers;
        }
    }

    /** Whether a sync has failed, so that no flush succeeds any more. */
    boolean failed() {
        synchronized (lock) {
            return failure != null;
        }
    }

    private IOException refused() {
        return new IOException(path + ": not flushed: an earlier fdatasync failed (" + failure.getMessage()
                + "), so writes before it may be lost", failure);
    }
}

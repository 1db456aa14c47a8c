package org.jhyve.memory;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when guest RAM's host mapping may go. Device threads that pass raw host addresses of guest pages to
 * native code (preadv and pwritev straight into guest memory) take a {@link MappingHold} for as long as such a
 * call may run; the VM's close asks for the mapping to go with {@link #release}. The unmapping runs at once if
 * nothing holds the mapping, otherwise on the thread that closes the last hold. So a read stuck in a backend
 * when the VM closes still lands in mapped memory when it returns, never in an address the process may have
 * reused for something else (the kernel would write there, or fail with EFAULT at best).
 *
 * <p>Thread-safe. After {@link #release}, no new hold is given.
 */
public final class MappingLifetime {
    private static final Logger log = LoggerFactory.getLogger(MappingLifetime.class);

    private final Runnable unmap;
    // Guarded by this.
    private int holds;
    private boolean releaseRequested;
    /** Some thread has taken the unmapping on; {@link #unmapped} once it has run. */
    private boolean unmapping, unmapped;

    /** {@code unmap} releases the mapping (closes its arena); it runs once, on whichever thread lets it go. */
    public MappingLifetime(Runnable unmap) {
        this.unmap = unmap;
    }

    /**
     * Keeps the mapping until the returned hold is closed.
     *
     * @throws IllegalStateException once {@link #release} was called
     */
    public MappingHold hold() {
        synchronized (this) {
            if (releaseRequested) throw new IllegalStateException("guest RAM is being released: no new holds");
            holds++;
        }
        AtomicBoolean closed = new AtomicBoolean();
        return () -> {
            if (closed.compareAndSet(false, true)) drop();
        };
    }

    /**
     * Lets the mapping go: now, when nothing holds it, otherwise when the last hold is closed. Returns how many
     * holds were still open (0: unmapped now). Calling it again changes nothing.
     */
    public int release() {
        int open;
        synchronized (this) {
            if (releaseRequested) return holds;
            releaseRequested = true;
            open = holds;
        }
        if (open == 0) unmapOnce();
        return open;
    }

    /** Holds open now. */
    public synchronized int holds() {
        return holds;
    }

    /** Whether the mapping is gone (the unmapping has run). */
    public synchronized boolean unmapped() {
        return unmapped;
    }

    private void drop() {
        boolean last;
        synchronized (this) {
            holds--;
            last = releaseRequested && holds == 0;
        }
        if (last) {
            log.info("the last thread holding guest RAM has returned: unmapping it now");
            unmapOnce();
        }
    }

    private void unmapOnce() {
        synchronized (this) {
            if (unmapping) return;
            unmapping = true;
        }
        try {
            unmap.run();
        } catch (RuntimeException e) {
            // Runs on a device thread for a late release: throwing there would only end that thread.
            log.warn("unmapping guest RAM failed", e);
        } finally {
            synchronized (this) {
                unmapped = true;
            }
        }
    }
}

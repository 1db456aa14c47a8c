package org.jhyve.kvm;

import org.jhyve.hv.Doorbell;
import org.jhyve.posix.EventFd;

/**
 * A {@link Doorbell} over an eventfd, so that KVM can ring it from the kernel when the guest writes a bound
 * MMIO address (KVM_IOEVENTFD) and the waiting device thread wakes with no vCPU exit at all.
 *
 * <p>The eventfd is closed only when no thread is inside {@link #await()}: closing a descriptor that another
 * thread polls or reads could let that thread act on an unrelated file that reuses the number.
 */
final class KvmDoorbell implements Doorbell {
    private final EventFd eventFd = new EventFd();
    private boolean closed;
    private int waiters;

    EventFd eventFd() { return eventFd; }

    @Override
    public void ring() {
        synchronized (this) {
            if (closed) return;
            eventFd.signal(1);
        }
    }

    @Override
    public boolean await() throws InterruptedException {
        synchronized (this) {
            if (closed) return false;
            waiters++;
        }
        try {
            while (true) {
                if (Thread.interrupted()) throw new InterruptedException();
                boolean rang = eventFd.tryRead().isPresent();
                synchronized (this) {
                    if (closed) return false;
                }
                if (rang) return true;
                // A bounded wait keeps interrupt() effective; a ring or close wakes the poll at once.
                eventFd.awaitReadable(500);
            }
        } finally {
            synchronized (this) {
                waiters--;
                if (closed && waiters == 0) eventFd.close();
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (waiters == 0) {
            eventFd.close();
        } else {
            eventFd.signal(1); // wakes the waiters; the last one out closes the eventfd
        }
    }
}

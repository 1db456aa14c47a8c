package org.jhyve.hv;

/** A {@link Doorbell} rung only from the VMM side: for hypervisors without ioeventfds, and tests. */
public final class SoftwareDoorbell implements Doorbell {
    private boolean rung;
    private boolean closed;

    @Override
    public synchronized void ring() {
        rung = true;
        notifyAll();
    }

    @Override
    public synchronized boolean await() throws InterruptedException {
        while (!rung && !closed) wait();
        rung = false;
        return !closed;
    }

    @Override
    public synchronized void close() {
        closed = true;
        notifyAll();
    }
}

package org.jhyve.bus;

/** Registering a range that overlaps one already on the bus. */
public final class BusConflictException extends RuntimeException {
    public BusConflictException(String message) {
        super(message);
    }
}

package org.jhyve.gdb;

/** A packet that does not parse; the stub answers it with an {@code E} reply naming nothing more. */
final class BadPacketException extends Exception {
    BadPacketException(String message) {
        super(message);
    }
}

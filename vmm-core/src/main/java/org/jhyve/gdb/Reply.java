package org.jhyve.gdb;

import java.util.Optional;

/** What the connection does after a packet has been handled. */
sealed interface Reply {
    /** Send this payload now (the empty payload means "not supported"). */
    record Send(String payload) implements Reply {}

    /** The target runs: nothing now; the stop reply is sent when the target stops. */
    record Resumed() implements Reply {}

    /** Send {@code last} if present, then close the connection (detach, kill). */
    record Close(Optional<String> last) implements Reply {}

    static Reply send(String payload) {
        return new Send(payload);
    }
}

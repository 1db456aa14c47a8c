package org.jhyve.gdb;

/** What arrives from gdb, one item at a time, as {@link PacketDecoder} finds it in the byte stream. */
sealed interface Incoming {
    /** A packet whose checksum matched; {@code payload} is unescaped, one char per byte. */
    record Packet(String payload) implements Incoming {}

    /** A packet that arrived damaged (bad checksum or digits, or too long): answered with a NAK. */
    record Corrupt(String why) implements Incoming {}

    /** {@code +}: gdb received the last reply. */
    record Ack() implements Incoming {}

    /** {@code -}: gdb wants the last reply again. */
    record Nak() implements Incoming {}

    /** Ctrl-C (0x03) outside a packet: stop the target. */
    record Interrupt() implements Incoming {}
}

package org.jhyve.gdb;

import java.util.Optional;

/**
 * Finds packets, acknowledgements and Ctrl-C in the bytes gdb sends, one byte at a time, so it works on any
 * read size and is tested byte by byte. Bytes outside a packet other than {@code + - 0x03 $} are line noise
 * and skipped; a {@code $} inside a packet starts a new one (gdb resends whole packets after a NAK).
 */
final class PacketDecoder {
    /** Larger than the PacketSize the stub advertises, so anything over it is a broken stream. */
    static final int MAX_PAYLOAD = 0x10000;

    private enum State { IDLE, PAYLOAD, CHECKSUM_HIGH, CHECKSUM_LOW }

    private State state = State.IDLE;
    /** The payload as sent (still escaped), for the checksum. */
    private final StringBuilder raw = new StringBuilder();
    private int checksumHigh;

    /** Feeds one byte; returns what it completes, if anything. */
    Optional<Incoming> accept(int b) {
        b &= 0xff;
        switch (state) {
            case IDLE -> {
                return switch (b) {
                    case '$' -> startPacket();
                    case '+' -> Optional.of(new Incoming.Ack());
                    case '-' -> Optional.of(new Incoming.Nak());
                    case PacketFrames.INTERRUPT -> Optional.of(new Incoming.Interrupt());
                    default -> Optional.empty();
                };
            }
            case PAYLOAD -> {
                if (b == '$') return startPacket();
                if (b == '#') {
                    state = State.CHECKSUM_HIGH;
                } else if (raw.length() >= MAX_PAYLOAD) {
                    state = State.IDLE;
                    return Optional.of(new Incoming.Corrupt("packet longer than " + MAX_PAYLOAD + " bytes"));
                } else {
                    raw.append((char) b);
                }
                return Optional.empty();
            }
            case CHECKSUM_HIGH -> {
                checksumHigh = Character.digit(b, 16);
                state = State.CHECKSUM_LOW;
                return Optional.empty();
            }
            case CHECKSUM_LOW -> {
                state = State.IDLE;
                int low = Character.digit(b, 16);
                if (checksumHigh < 0 || low < 0) return Optional.of(new Incoming.Corrupt("checksum is not two hex digits"));
                int expected = checksumHigh << 4 | low;
                int actual = PacketFrames.checksum(raw);
                if (expected != actual) {
                    return Optional.of(new Incoming.Corrupt(String.format("checksum %02x, computed %02x", expected, actual)));
                }
                return unescape();
            }
        }
        throw new AssertionError(state);
    }

    private Optional<Incoming> startPacket() {
        raw.setLength(0);
        state = State.PAYLOAD;
        return Optional.empty();
    }

    private Optional<Incoming> unescape() {
        StringBuilder payload = new StringBuilder(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == PacketFrames.ESCAPE) {
                if (++i == raw.length()) return Optional.of(new Incoming.Corrupt("packet ends in an escape"));
                payload.append((char) (raw.charAt(i) ^ 0x20));
            } else {
                payload.append(c);
            }
        }
        return Optional.of(new Incoming.Packet(payload.toString()));
    }
}

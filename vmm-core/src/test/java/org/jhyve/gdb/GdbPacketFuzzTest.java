package org.jhyve.gdb;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Findings;
import org.slf4j.event.Level;

/**
 * Fuzz target for the GDB stub's protocol side (docs/reliability.md): the bytes a debugger sends, through
 * {@link PacketDecoder} (framing, checksums, escapes, Ctrl-C) into {@link GdbCommands#handle} against a fake
 * two-thread target, and each reply through {@link PacketFrames#frame}. When a command resumes the target, the
 * input decides how it stops again (trapped, interrupted, exited).
 *
 * <p>Documented exceptions: none. {@code handle} turns a packet that does not parse into {@code E01}; it also
 * turns any {@link RuntimeException} into {@code E01}, logged at warn as "failed" — meant for a target that
 * failed, and the fake target never fails, so such a line is a parser bug and a finding here. Asserted too: a
 * reply is never null, and replies frame without an exception.
 */
class GdbPacketFuzzTest {
    @FuzzTest(maxDuration = "10s")
    void packets(FuzzedDataProvider data) {
        Findings findings = new Findings("gdb-packets");
        try (CapturedLogs ignored = CapturedLogs.open(findings,
                e -> e.logger().equals(GdbCommands.class.getName()) && e.level().toInt() >= Level.WARN.toInt())) {
            FakeTarget target = new FakeTarget();
            GdbCommands commands = new GdbCommands(target, new Stop.Trapped(1, Stop.Cause.NONE), stop -> { });
            PacketDecoder decoder = new PacketDecoder();
            // Most inputs are made of well-framed packets, so that the fuzzer reaches the commands; then raw bytes.
            while (data.remainingBytes() > 0) {
                if (data.consumeBoolean()) {
                    for (byte b : PacketFrames.frame(new String(data.consumeBytes(64), StandardCharsets.ISO_8859_1))) {
                        if (!feed(decoder, b, commands, target, data, findings)) return;
                    }
                } else if (!feed(decoder, data.consumeByte(), commands, target, data, findings)) {
                    return;
                }
            }
        } finally {
            findings.throwIfAny();
        }
    }

    /** One byte into the decoder and whatever it completes into the commands; false once the session is closed. */
    private static boolean feed(PacketDecoder decoder, byte b, GdbCommands commands, FakeTarget target,
                                FuzzedDataProvider data, Findings findings) {
        Optional<Incoming> incoming = decoder.accept(b);
        if (incoming.isEmpty() || !(incoming.get() instanceof Incoming.Packet(String payload))) return true;
        Reply reply = commands.handle(payload);
        switch (reply) {
            case null -> findings.add("no reply to packet '" + GdbCommands.printable(payload) + "'");
            case Reply.Send(String answer) -> PacketFrames.frame(answer);
            case Reply.Close(Optional<String> last) -> {
                last.ifPresent(PacketFrames::frame);
                return false;
            }
            case Reply.Resumed() -> PacketFrames.frame(commands.stopped(stopAfterResume(target, data)));
        }
        return true;
    }

    private static Stop stopAfterResume(FakeTarget target, FuzzedDataProvider data) {
        int thread = data.consumeInt(1, target.threadCount());
        return switch (data.consumeInt(0, 2)) {
            case 0 -> new Stop.Trapped(thread, data.pickValue(Stop.Cause.values()), data.consumeLong());
            case 1 -> new Stop.Interrupted(thread);
            default -> new Stop.Exited(data.consumeInt(0, 255));
        };
    }
}

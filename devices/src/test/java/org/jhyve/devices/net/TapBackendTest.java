package org.jhyve.devices.net;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The tap backend on a real tap interface (created here: needs /dev/net/tun and CAP_NET_ADMIN, as root in
 * CI; skipped with the reason otherwise). The frame path is tested end to end with Linux in the cli's
 * LinuxNetworkTest; this is the receive wait a stopping device depends on.
 */
@Timeout(30)
class TapBackendTest {
    private static TapBackend openOrSkip(String name) {
        try {
            return TapBackend.open(name);
        } catch (IOException e) {
            Assumptions.abort("tap tests skipped: " + e.getMessage());
            throw new AssertionError(e);
        }
    }

    @Test
    void wakeReceiverEndsAWaitForFramesLongBeforeItsTimeout() throws Exception {
        try (TapBackend tap = openOrSkip("jhwake" + ProcessHandle.current().pid() % 100_000)) {
            long started = System.nanoTime();
            // Nothing arrives on a tap whose interface is down: only the wake can end this wait early.
            CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
                try {
                    return tap.awaitReadable(10_000);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(100);
            tap.wakeReceiver();
            assertThat(waiting.get(5, TimeUnit.SECONDS)).as("a woken wait reports nothing to read").isFalse();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(5_000);

            // The wake was consumed: the next wait runs its course (here a short one) and finds nothing.
            assertThat(tap.awaitReadable(50)).isFalse();
            // A wake before the wait ends it at once.
            tap.wakeReceiver();
            long before = System.nanoTime();
            assertThat(tap.awaitReadable(10_000)).isFalse();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before)).isLessThan(5_000);
        }
    }

    /** Runs {@code ip args...} (iproute2), skipping the test when it is not there. */
    static void ip(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("tap tests need iproute2's ip: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s: %s", command, out).isZero();
    }

    @Test
    void aTapWhoseInterfaceIsDeletedFailsEveryCallInsteadOfReportingNothingToRead() throws Exception {
        String name = "jhgone" + ProcessHandle.current().pid() % 100_000;
        try (TapBackend tap = openOrSkip(name); Arena arena = Arena.ofConfined()) {
            ip("link", "set", name, "up"); // the host may send it a frame or two (IPv6 solicitations): left unread
            ip("link", "del", name);
            long started = System.nanoTime();
            // Before, poll's POLLERR came back as "nothing to read" at once: a receive loop spun on it.
            assertThatThrownBy(() -> tap.awaitReadable(5_000)).isInstanceOf(IOException.class).hasMessageContaining("gone");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("at once").isLessThan(1_000);
            MemorySegment frame = arena.allocate(TapBackend.VNET_HEADER + 60);
            assertThatThrownBy(() -> tap.send(List.of(frame))).isInstanceOf(IOException.class).hasMessageContaining("errno 77");
            assertThatThrownBy(() -> tap.receive(List.of(frame))).isInstanceOf(IOException.class).hasMessageContaining("errno 77");
            tap.wakeReceiver(); // still harmless
        }
    }
}

package org.jhyve.devices.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
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
}

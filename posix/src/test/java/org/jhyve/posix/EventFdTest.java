package org.jhyve.posix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The eventfd on its own: plain Linux, no /dev/kvm needed (moved here from native-kvm's PlainEventFdTest). */
class EventFdTest {

    @Test
    void countsAndResets() {
        try (EventFd e = new EventFd()) {
            assertThat(e.tryRead()).isEmpty();
            e.signal(2);
            e.signal(3);
            assertThat(e.tryRead()).hasValue(5);
            assertThat(e.tryRead()).isEmpty();
        }
    }

    @Test
    void rejectsNonPositiveIncrements() {
        try (EventFd e = new EventFd()) {
            assertThatThrownBy(() -> e.signal(0)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void takeIsZeroWhenNothingWasSignalled() {
        try (EventFd e = new EventFd()) {
            assertThat(e.take()).isZero();
            e.signal(7);
            assertThat(e.take()).isEqualTo(7);
            assertThat(e.take()).isZero();
        }
    }

    @Test
    void aWaitTimesOutUntilAnotherThreadSignals() throws Exception {
        try (EventFd e = new EventFd()) {
            assertThat(e.awaitReadable(10)).isFalse();
            Thread signaller = Thread.ofPlatform().start(() -> e.signal(1));
            assertThat(e.awaitReadable(5_000)).isTrue();
            signaller.join();
            assertThat(e.take()).isEqualTo(1);
        }
    }

    @Test
    void closeIsIdempotent() {
        EventFd e = new EventFd();
        e.close();
        e.close();
    }
}

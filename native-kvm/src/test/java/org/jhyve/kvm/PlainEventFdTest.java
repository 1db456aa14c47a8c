package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The eventfd wrapper on its own: plain Linux, no /dev/kvm needed. */
class PlainEventFdTest {

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
    void closeIsIdempotent() {
        EventFd e = new EventFd();
        e.close();
        e.close();
    }
}

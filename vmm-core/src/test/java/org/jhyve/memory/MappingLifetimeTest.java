package org.jhyve.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The host mapping goes when the VM lets it go and nothing holds it: not before, and exactly once. */
class MappingLifetimeTest {
    final AtomicInteger unmaps = new AtomicInteger();
    final MappingLifetime lifetime = new MappingLifetime(unmaps::incrementAndGet);

    @Test
    void withoutHoldsReleaseUnmapsAtOnce() {
        lifetime.hold().close();
        assertThat(lifetime.release()).isZero();
        assertThat(unmaps.get()).isEqualTo(1);
        assertThat(lifetime.unmapped()).isTrue();
        assertThat(lifetime.release()).as("again: nothing more").isZero();
        assertThat(unmaps.get()).isEqualTo(1);
    }

    @Test
    void theLastHoldToCloseUnmaps() {
        MappingHold a = lifetime.hold(), b = lifetime.hold();
        assertThat(lifetime.release()).isEqualTo(2);
        assertThat(unmaps.get()).isZero();
        a.close();
        a.close(); // twice: still one hold's worth
        assertThat(lifetime.holds()).isEqualTo(1);
        assertThat(unmaps.get()).isZero();
        b.close();
        assertThat(unmaps.get()).isEqualTo(1);
        assertThat(lifetime.unmapped()).isTrue();
    }

    @Test
    void noHoldIsGivenOnceReleased() {
        MappingHold a = lifetime.hold();
        lifetime.release();
        assertThatThrownBy(lifetime::hold).isInstanceOf(IllegalStateException.class);
        a.close();
        assertThat(unmaps.get()).isEqualTo(1);
    }

    @Test
    void heapMemoryHoldsNothing() {
        assertThat(SegmentGuestMemory.onHeap(1 << 20).hold()).isSameAs(MappingHold.NONE);
    }
}

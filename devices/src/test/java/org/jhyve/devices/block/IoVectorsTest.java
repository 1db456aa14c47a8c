package org.jhyve.devices.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a request's iovecs are used up when the kernel moves less than asked. */
class IoVectorsTest {
    @Test
    void shortTransfersContinueWhereTheyStopped() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(100), b = arena.allocate(0), c = arena.allocate(300), d = arena.allocate(50);
            IoVectors iov = new IoVectors(arena, List.of(a, b, c, d));
            assertThat(iov.remaining()).isEqualTo(450);
            assertThat(iov.batch(1024)).isEqualTo(4);
            iov.advance(40); // stopped inside the first buffer
            assertThat(iov.peek(0)).containsExactly(a.address() + 40, 60);
            assertThat(iov.batch(1024)).isEqualTo(4);
            iov.advance(60); // exactly the rest of it: the empty one is skipped too
            assertThat(iov.peek(0)).containsExactly(c.address(), 300);
            assertThat(iov.batch(2)).as("at most IOV_MAX per call").isEqualTo(2);
            iov.advance(301); // across a boundary
            assertThat(iov.peek(0)).containsExactly(d.address() + 1, 49);
            assertThat(iov.remaining()).isEqualTo(49);
            assertThat(iov.done()).isFalse();
            assertThatThrownBy(() -> iov.advance(50)).isInstanceOf(IllegalArgumentException.class);
            iov.advance(49);
            assertThat(iov.done()).isTrue();
            assertThat(iov.batch(1024)).isZero();
        }
    }

    @Test
    void aRequestOfEmptyBuffersIsDoneAtOnceAndHeapBuffersAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            assertThat(new IoVectors(arena, List.of(arena.allocate(0), arena.allocate(0))).done()).isTrue();
            assertThat(new IoVectors(arena, List.of()).done()).isTrue();
            assertThatThrownBy(() -> new IoVectors(arena, List.of(MemorySegment.ofArray(new byte[8])))).isInstanceOf(IllegalArgumentException.class);
        }
    }
}

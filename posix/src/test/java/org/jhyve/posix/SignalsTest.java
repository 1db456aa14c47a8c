package org.jhyve.posix;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Thread ids, tgkill and the sigaction layout the vCPU kick relies on. */
class SignalsTest {

    @Test
    void glibcSigaction() {
        // gcc on glibc 2.36, x86-64: sizeof(struct sigaction) 152, sa_mask at 8, sa_flags at 136.
        assertThat(Signals.SIGACTION.byteSize()).isEqualTo(152);
        assertThat(Signals.SA_HANDLER).isZero();
        assertThat(Signals.SA_MASK).isEqualTo(8);
        assertThat(Signals.SA_FLAGS).isEqualTo(136);
        assertThat(Signals.SIGSET.byteSize()).isEqualTo(128);
    }

    @Test
    void eachThreadHasItsOwnKernelIdInThisProcess() throws InterruptedException {
        int pid = Signals.getpid();
        assertThat(pid).isEqualTo((int) ProcessHandle.current().pid());
        AtomicInteger other = new AtomicInteger();
        Thread t = Thread.ofPlatform().start(() -> other.set(Signals.gettid()));
        t.join();
        assertThat(other.get()).isPositive().isNotEqualTo(Signals.gettid());
    }

    @Test
    void tgkillWithSignalZeroChecksTheThreadAndNamesAGoneOne() {
        assertThat(Signals.tgkill(Signals.getpid(), Signals.gettid(), 0)).isZero();
        assertThat(Signals.tgkill(Signals.getpid(), Integer.MAX_VALUE, 0)).isEqualTo(Errno.ESRCH);
    }

    @Test
    void sigactionReadsTheCurrentDispositionAndUnblockSucceeds() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(Signals.SIGACTION);
            Signals.sigaction(Signals.SIGUSR1, MemorySegment.NULL, old);
            assertThat(old.get(ValueLayout.JAVA_INT, Signals.SA_FLAGS)).isNotNegative();
        }
        Signals.unblock(Signals.SIGUSR1);
        assertThat(Signals.getpidAddress().address()).isNotZero();
    }
}

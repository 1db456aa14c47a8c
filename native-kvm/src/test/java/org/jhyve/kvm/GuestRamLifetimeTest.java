package org.jhyve.kvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.kvm.Guests.MIB;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jhyve.hv.VmSpec;
import org.jhyve.memory.MappingHold;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Posix;
import org.jhyve.posix.Scratch;
import org.junit.jupiter.api.Test;

/**
 * Guest RAM is not unmapped under a thread that may still write it through a raw host address: a blocking
 * read(2) into guest RAM (what a backend's preadv stuck on a slow disk is) stays pending across the VM's close,
 * and lands when it returns. The kernel writes such a read with copy_to_user: into unmapped memory it fails with
 * EFAULT rather than crashing the JVM, which is what the test observes.
 */
class GuestRamLifetimeTest extends KvmTestBase {
    static final long TARGET = 0x5000;
    static final long PATTERN = 0x1122_3344_5566_7788L;

    /** Whether {@code address} lies in a mapping of this process. */
    static boolean mapped(long address) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            if (Long.compareUnsigned(Long.parseUnsignedLong(range[0], 16), address) <= 0
                    && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0) return true;
        }
        return false;
    }

    /** The outcome of a read(2): bytes read, or -errno. */
    record ReadResult(long bytes, int errno, long seenThroughGuestMemory) {}

    @Test
    void aReadStuckAtCloseLandsInGuestRamThatIsStillMappedAndTheLastHoldUnmapsIt() throws Exception {
        KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1));
        vm.createVcpu(0);
        long raw = vm.memory().slice(TARGET, 8).address();
        // A blocking eventfd: read(2) waits in the kernel until the test writes the counter.
        int efd = Libc.eventfd(Scratch.ofThisThread(), 0, Libc.EFD_CLOEXEC);
        try {
            MappingHold hold = vm.memory().hold(); // what a device worker takes when it starts
            CompletableFuture<ReadResult> read = CompletableFuture.supplyAsync(() -> {
                try (hold) {
                    Scratch state = Scratch.allocate();
                    // A raw address, as in an iovec: nothing in FFM keeps the RAM arena alive for this call.
                    long n = Libc.read(state, efd, MemorySegment.ofAddress(raw).reinterpret(8), 8);
                    return new ReadResult(n, n < 0 ? state.errno() : 0, n == 8 ? vm.memory().readLong(TARGET) : 0);
                }
            });
            Thread.sleep(100); // let the read block (if it has not yet, it blocks after the close: the same case)

            long start = System.nanoTime();
            vm.close();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("close does not wait for the read").isLessThan(2000);
            assertThat(vm.ramUnmapped()).as("a thread holds guest RAM").isFalse();
            assertThat(mapped(raw)).as("the read's target is still mapped").isTrue();

            try (Arena arena = Arena.ofConfined()) {
                MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
                value.set(ValueLayout.JAVA_LONG, 0, PATTERN);
                assertThat(Libc.write(Scratch.allocate(), efd, value, 8)).isEqualTo(8);
            }
            ReadResult result = read.get(5, TimeUnit.SECONDS);
            assertThat(result.errno()).as("errno of the read (14 is EFAULT: the memory was gone)").isZero();
            assertThat(result.bytes()).isEqualTo(8);
            assertThat(result.seenThroughGuestMemory()).isEqualTo(PATTERN);

            assertThat(vm.ramUnmapped()).as("the last hold released guest RAM").isTrue();
            assertThat(mapped(raw)).isFalse();
            assertThatThrownBy(() -> vm.memory().readLong(TARGET)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> vm.memory().hold()).isInstanceOf(IllegalStateException.class);
        } finally {
            Posix.close(efd);
        }
    }

    @Test
    void withoutHoldsCloseUnmapsAtOnce() throws IOException {
        KvmVm vm = kvm.createVm(new VmSpec(16 * MIB, 1));
        long raw = vm.memory().slice(TARGET, 8).address();
        vm.memory().hold().close();
        vm.close();
        assertThat(vm.ramUnmapped()).isTrue();
        assertThat(mapped(raw)).isFalse();
    }
}

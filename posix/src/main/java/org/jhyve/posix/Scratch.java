package org.jhyve.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * Native memory that calls reuse, so a call allocates nothing: the call-state segment errno is captured into,
 * and room for the small structs a call takes by pointer ({@link #STRUCT_BYTES}: two pollfds, an eventfd's
 * counter, an int). A thread reading a terminal a byte at a time, or a vCPU signalling an eventfd per
 * interrupt, then makes no garbage at all once the JIT has compiled the path (interpreted, the JDK's own
 * downcall glue allocates a little).
 *
 * <p>Threading: a scratch is used by one thread at a time. {@link #ofThisThread()} is the calling thread's own,
 * which this package's checked calls ({@link Posix}, {@link EventFd}, ...) use too: as with C's errno, read
 * {@link #errno()} and the struct area right after the call that wrote them, before the next call into this
 * package on that thread. An owner that keeps a scratch across calls of its own (a vCPU's KVM_RUN, one direction
 * of a tap) takes one from {@link #allocate()} and keeps it to one thread, or under a lock.
 *
 * <p>The memory is reclaimed by the garbage collector once the scratch is unreachable (for a thread's own,
 * when the thread has ended): a call still running on another thread cannot find it freed.
 */
public final class Scratch {
    /** Bytes in {@link #structs()}. */
    public static final long STRUCT_BYTES = 64;

    private static final VarHandle ERRNO = Native.CALL_STATE.varHandle(PathElement.groupElement("errno"));
    private static final ThreadLocal<Scratch> PER_THREAD = ThreadLocal.withInitial(Scratch::allocate);

    private final MemorySegment callState;
    private final MemorySegment structs;

    private Scratch(Arena arena) {
        this.callState = arena.allocate(Native.CALL_STATE);
        this.structs = arena.allocate(STRUCT_BYTES, 8);
    }

    /** A scratch of the caller's own (see the class comment for who may use it). */
    public static Scratch allocate() {
        return new Scratch(Arena.ofAuto());
    }

    /** The calling thread's scratch, made on its first call. */
    public static Scratch ofThisThread() {
        return PER_THREAD.get();
    }

    /** errno as the last call made with this scratch left it (meaningful only when that call failed). */
    public int errno() {
        return (int) ERRNO.get(callState, 0L);
    }

    /** {@link #STRUCT_BYTES} bytes, 8-aligned, holding what the last user left there. */
    public MemorySegment structs() {
        return structs;
    }

    /** The segment the linker writes errno into, passed first to every errno-reporting downcall. */
    MemorySegment callState() {
        return callState;
    }
}

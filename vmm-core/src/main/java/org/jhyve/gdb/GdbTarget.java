package org.jhyve.gdb;

import java.util.Map;
import java.util.function.Consumer;

/**
 * What the stub debugs: a machine of {@link #threadCount()} threads (vCPUs), numbered from 1 as gdb wants.
 * The stub calls everything from one thread; all methods but {@link #interrupt()} and {@link #resume} are
 * called only while the target is stopped, and all of it only between {@link #attach()} and {@link #detach()}
 * or {@link #kill()}.
 */
public interface GdbTarget {
    int threadCount();

    /** A short description of thread {@code thread} for {@code info threads}, e.g. "vCPU 0". */
    String describeThread(int thread);

    /** Stops the target if it runs; returns the stop to report for {@code ?}. */
    Stop attach();

    CpuState readRegisters(int thread);

    void writeRegisters(int thread, CpuState state);

    /**
     * Up to {@code length} bytes at virtual address {@code address} as {@code thread} sees it through its page
     * tables, stopping at the first byte that is unmapped or not RAM (empty if the first is).
     */
    byte[] readMemory(int thread, long address, int length);

    /** Writes all of {@code data} at virtual address {@code address}, or nothing (false) if any byte cannot be. */
    boolean writeMemory(int thread, long address, byte[] data);

    /** Inserts a breakpoint; false when it cannot be had (unmapped address, no free debug register). */
    boolean insertBreakpoint(Breakpoint breakpoint);

    /** Removes a breakpoint; false when there was none there. */
    boolean removeBreakpoint(Breakpoint breakpoint);

    /**
     * Lets the threads in {@code actions} run or step; the others stay stopped. Returns at once; when the
     * target has stopped again (every thread), it calls {@code whenStopped} once, from any thread.
     */
    void resume(Map<Integer, ResumeAction> actions, Consumer<Stop> whenStopped);

    /** Asks a running target to stop (Ctrl-C); the pending {@code whenStopped} reports it. Any thread. */
    void interrupt();

    /** Removes every breakpoint and lets the whole target run on without the debugger. */
    void detach();

    /** Ends the machine. */
    void kill();
}

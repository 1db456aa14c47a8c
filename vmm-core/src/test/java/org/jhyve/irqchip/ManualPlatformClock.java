package org.jhyve.irqchip;

import java.util.PriorityQueue;

/**
 * A clock tests move by hand: {@link #advance} runs, on the caller's thread and in deadline order, every action
 * whose deadline it passes, each seeing {@link #nanoTime()} at its own deadline (as a timer thread that is never
 * late would). Single-threaded.
 */
public final class ManualPlatformClock implements PlatformClock {
    private record Entry(long deadline, long sequence, Runnable action, boolean[] cancelled) {}

    private final PriorityQueue<Entry> queue = new PriorityQueue<>((a, b) -> a.deadline != b.deadline
            ? Long.compare(a.deadline, b.deadline) : Long.compare(a.sequence, b.sequence));
    private long now = 1_000_000_000L;
    private long sequence;

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public Timer schedule(long deadlineNanos, Runnable action) {
        boolean[] cancelled = {false};
        queue.add(new Entry(deadlineNanos, sequence++, action, cancelled));
        return () -> cancelled[0] = true;
    }

    /** Moves time on by {@code nanos}, running what falls due. */
    public void advance(long nanos) {
        long target = now + nanos;
        while (!queue.isEmpty() && queue.peek().deadline <= target) {
            Entry e = queue.poll();
            if (e.cancelled[0]) continue;
            now = Math.max(now, e.deadline);
            e.action.run();
        }
        now = target;
    }

    /** Timers scheduled and neither run nor cancelled. */
    public int pending() {
        return (int) queue.stream().filter(e -> !e.cancelled[0]).count();
    }
}

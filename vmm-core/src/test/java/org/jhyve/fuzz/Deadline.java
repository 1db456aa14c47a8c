package org.jhyve.fuzz;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The wall-clock budget of one fuzz input, for harnesses that wait for device threads: waiting longer than it
 * is a finding (a hang), not a test that never ends. libFuzzer's own {@code -timeout} (set by scripts/fuzz) is
 * the backstop for a hang inside the code under test.
 */
public final class Deadline {
    private final long end;
    private final Duration budget;

    private Deadline(Duration budget) {
        this.budget = budget;
        this.end = System.nanoTime() + budget.toNanos();
    }

    public static Deadline in(Duration budget) {
        return new Deadline(budget);
    }

    public boolean passed() {
        return System.nanoTime() - end > 0;
    }

    /** Polls {@code condition} until it holds (true) or the deadline passes (false, and a finding naming {@code what}). */
    public boolean await(BooleanSupplier condition, Findings findings, String what) {
        while (!condition.getAsBoolean()) {
            if (passed()) {
                findings.add("not done within " + budget.toMillis() + " ms: " + what);
                return false;
            }
            Thread.onSpinWait();
            Thread.yield();
        }
        return true;
    }
}

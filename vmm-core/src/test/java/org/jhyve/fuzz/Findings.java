package org.jhyve.fuzz;

import java.util.ArrayList;
import java.util.List;

/**
 * What one fuzz input broke, collected from every thread that saw it (the harness, device workers, the log, an
 * uncaught-exception handler) and thrown at the end of the input by {@link #throwIfAny}, so the fuzzer records
 * the input as a crash. A finding with a cause keeps the cause's stack trace: Jazzer deduplicates by it.
 *
 * <p>Thread-safe: device threads add while the harness runs.
 */
public final class Findings {
    /** One broken promise: what was expected and, where there is one, the exception that broke it. */
    public record Finding(String what, Throwable cause) {}

    private final String target;
    private final List<Finding> found = new ArrayList<>();

    public Findings(String target) {
        this.target = target;
    }

    public String target() { return target; }

    public synchronized void add(String what) {
        add(what, null);
    }

    public synchronized void add(String what, Throwable cause) {
        // The first few are enough to diagnose; a hostile input could otherwise add one per step.
        if (found.size() < 16) found.add(new Finding(what, cause));
    }

    public synchronized List<Finding> all() { return List.copyOf(found); }

    public synchronized boolean isEmpty() { return found.isEmpty(); }

    /** Checks {@code condition}; records {@code what} when it does not hold. */
    public void check(boolean condition, String what) {
        if (!condition) add(what);
    }

    /** Throws the first finding (the others in its message) as a {@link FuzzFinding}; nothing when there is none. */
    public synchronized void throwIfAny() {
        if (found.isEmpty()) return;
        Finding first = found.getFirst();
        StringBuilder message = new StringBuilder(target).append(": ").append(first.what());
        for (int i = 1; i < found.size(); i++) message.append("\n  also: ").append(found.get(i).what());
        throw new FuzzFinding(message.toString(), first.cause());
    }
}

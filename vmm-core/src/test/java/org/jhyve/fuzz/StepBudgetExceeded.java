package org.jhyve.fuzz;

/**
 * Thrown by {@link FuzzMemory} when an input has made more guest-memory accesses than its budget: the code
 * under test loops on guest data. An {@link Error}, so that device code catching {@link RuntimeException} to
 * contain faults does not keep looping; it is also recorded in the input's {@link Findings}, in case something
 * catches it anyway.
 */
public final class StepBudgetExceeded extends Error {
    StepBudgetExceeded(String message) {
        super(message, null, false, true);
    }
}

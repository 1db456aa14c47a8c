package org.jhyve.fuzz;

/**
 * A fuzz input made the code under test break one of its promises (an exception escaped, a request got no
 * completion, memory outside guest RAM was touched, the step budget ran out). An {@link AssertionError}, so
 * that nothing under test that catches {@link RuntimeException} can swallow it.
 */
public final class FuzzFinding extends AssertionError {
    public FuzzFinding(String message, Throwable cause) {
        super(message, cause);
    }
}

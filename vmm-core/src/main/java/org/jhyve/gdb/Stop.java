package org.jhyve.gdb;

/** Why the target stopped, as the stub reports it to gdb ({@code ?} and the reply to a resume). */
public sealed interface Stop {
    /** SIGTRAP on {@code thread} (1-based): a step, a breakpoint, a watchpoint, or the stop on attaching. */
    record Trapped(int thread, Cause cause, long dataAddress) implements Stop {
        public Trapped(int thread, Cause cause) {
            this(thread, cause, 0);
        }
    }

    /** SIGINT on {@code thread}: gdb's Ctrl-C stopped the target. */
    record Interrupted(int thread) implements Stop {}

    /** The VM ended (the guest powered off, reset, or failed); {@code status} is jhyve's exit status. */
    record Exited(int status) implements Stop {}

    enum Cause {
        /** Nothing in particular: a single step finished, or the stop that greets a new connection. */
        NONE,
        SOFTWARE_BREAKPOINT,
        HARDWARE_BREAKPOINT,
        /** {@code dataAddress} was written. */
        WRITE_WATCH,
        /** {@code dataAddress} was read or written (x86 cannot watch reads alone). */
        ACCESS_WATCH
    }
}

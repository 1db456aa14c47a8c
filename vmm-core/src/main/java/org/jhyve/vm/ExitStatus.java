package org.jhyve.vm;

/** How a VM ended, with bhyve's process exit codes (xhyve uses the same). */
public enum ExitStatus {
    /** The guest asked for a reset (reboot). */
    RESET(0),
    /** The guest powered itself off. */
    POWER_OFF(1),
    /** The guest halted with no way to wake up. */
    HALT(2),
    /** The guest CPU shut down after a triple fault. */
    TRIPLE_FAULT(3),
    /** jhyve itself failed: bad configuration, host error, or an exit it could not handle. */
    ERROR(4);

    private final int code;

    ExitStatus(int code) {
        this.code = code;
    }

    /** The process exit code the {@code jhyve} command uses. */
    public int code() { return code; }
}

package org.jhyve.vm;

/**
 * How the VM ended and why, in words for the log or the user. {@code exitCode} is the process exit code the
 * {@code jhyve} command returns: {@code status}'s own bhyve code, unless the guest chose one through a
 * debug-exit device ({@link MachineContext#requestExit(ExitStatus, int, String)}).
 */
public record VmOutcome(ExitStatus status, String reason, int exitCode) {
    public VmOutcome(ExitStatus status, String reason) {
        this(status, reason, status.code());
    }
}

package org.jhyve.vm;

/** How the VM ended and why, in words for the log or the user. */
public record VmOutcome(ExitStatus status, String reason) {}

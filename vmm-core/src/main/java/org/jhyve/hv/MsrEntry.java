package org.jhyve.hv;

/** A model-specific register and its value. */
public record MsrEntry(int index, long value) {}

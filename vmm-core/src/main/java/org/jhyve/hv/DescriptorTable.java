package org.jhyve.hv;

/** GDTR or IDTR: base and limit. */
public record DescriptorTable(long base, int limit) {}

package org.jhyve.memory;

/**
 * A claim on the host mapping of guest RAM ({@link GuestMemory#hold}): while it is open the mapping stays in
 * place, even after the VM has closed. Closing it twice is harmless. Any thread may close it.
 */
@FunctionalInterface
public interface MappingHold extends AutoCloseable {
    /** For memory that is never unmapped while reachable (on the Java heap): holds nothing. */
    MappingHold NONE = () -> {};

    @Override
    void close();
}

package org.jhyve.gdb;

/**
 * A breakpoint or watchpoint gdb asks for with {@code Z}/{@code z}: type, guest virtual address, and
 * {@code length} (gdb's "kind": 1 for an x86 breakpoint, the watched size in bytes for a watchpoint).
 */
public record Breakpoint(Type type, long address, int length) {
    /** In the order of the packet's type digit: {@code Z0} software, {@code Z1} hardware, {@code Z2..4} watchpoints. */
    public enum Type { SOFTWARE, HARDWARE, WRITE_WATCH, READ_WATCH, ACCESS_WATCH }
}

package org.jhyve.kvm;

/**
 * One ioctl request: its name (for error messages) and its number, built as the kernel's
 * {@code <asm-generic/ioctl.h>} macros build it on x86-64:
 * {@code dir << 30 | size << 16 | type << 8 | nr}, where dir is 0 (none), 1 (write: user to kernel)
 * or 2 (read: kernel to user), and size is the argument struct's size in bytes (14 bits).
 */
record Ioctl(String name, long number) {
    private static final int NR_SHIFT = 0;
    private static final int TYPE_SHIFT = 8;
    private static final int SIZE_SHIFT = 16;
    private static final int DIR_SHIFT = 30;
    private static final long SIZE_MAX = (1 << 14) - 1;

    static final int DIR_NONE = 0;
    static final int DIR_WRITE = 1;
    static final int DIR_READ = 2;

    /** {@code _IOC(dir, type, nr, size)}. */
    static long ioc(int dir, int type, int nr, long size) {
        if (size < 0 || size > SIZE_MAX) throw new IllegalArgumentException("ioctl argument size out of range: " + size);
        return ((long) dir << DIR_SHIFT) | (size << SIZE_SHIFT) | ((long) type << TYPE_SHIFT) | ((long) nr << NR_SHIFT);
    }

    /** {@code _IO(type, nr)}: no argument struct (an integer argument, if any, is passed by value). */
    static Ioctl io(String name, int type, int nr) {
        return new Ioctl(name, ioc(DIR_NONE, type, nr, 0));
    }

    /** {@code _IOR(type, nr, struct)}: the kernel fills the struct. */
    static Ioctl ior(String name, int type, int nr, long size) {
        return new Ioctl(name, ioc(DIR_READ, type, nr, size));
    }

    /** {@code _IOW(type, nr, struct)}: the kernel reads the struct. */
    static Ioctl iow(String name, int type, int nr, long size) {
        return new Ioctl(name, ioc(DIR_WRITE, type, nr, size));
    }

    /** {@code _IOWR(type, nr, struct)}: both ways. */
    static Ioctl iowr(String name, int type, int nr, long size) {
        return new Ioctl(name, ioc(DIR_READ | DIR_WRITE, type, nr, size));
    }

    @Override
    public String toString() {
        return name + "(0x" + Long.toHexString(number) + ")";
    }
}

package org.jhyve.posix;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * errno values (Linux's) and their names and texts: the one mapping from an error number to what jhyve says
 * about it, for {@link ErrnoException} and for the hypervisor's own exceptions, as Netty's {@code Errors} is for
 * its native transports.
 *
 * <p>The texts come from glibc's {@code strerrorname_np}/{@code strerrordesc_np} (2.32+), which return constant
 * strings and so, unlike {@code strerror}, are thread-safe; elsewhere {@code strerror} gives the text, one
 * thread at a time, and the name is unknown.
 */
public final class Errno {
    private Errno() {}

    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, E2BIG = 7, EBADF = 9;
    public static final int EAGAIN = 11, EWOULDBLOCK = EAGAIN, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16;
    public static final int EEXIST = 17, ENODEV = 19, EINVAL = 22, ENOSPC = 28, EBADFD = 77, EOPNOTSUPP = 95;

    private static final FunctionDescriptor INT_TO_STRING = FunctionDescriptor.of(ADDRESS, JAVA_INT);
    private static final Optional<MethodHandle> STRERRORNAME = optional("strerrorname_np");
    private static final Optional<MethodHandle> STRERRORDESC = optional("strerrordesc_np");
    // Each downcall in a holder class of its own: linked on its first call (Native says why).
    private static final class Strerror { static final MethodHandle HANDLE = Native.call("strerror", INT_TO_STRING); }
    /** strerror may fill a buffer of its own for a number it does not know: one caller at a time. */
    private static final Object STRERROR_LOCK = new Object();

    private static Optional<MethodHandle> optional(String name) {
        return Native.optionalSymbol(name).map(s -> Native.call(name, INT_TO_STRING));
    }

    /** The symbol, {@code "EINVAL"}; empty where libc cannot name it. */
    public static Optional<String> name(int errno) {
        return STRERRORNAME.map(h -> text(h, errno));
    }

    /** The text, {@code "Invalid argument"} (as {@code strerror} has it), or {@code "errno 22"} if there is none. */
    public static String description(int errno) {
        String desc = STRERRORDESC.map(h -> text(h, errno)).orElse(null);
        if (desc != null) return desc;
        synchronized (STRERROR_LOCK) {
            desc = text(Strerror.HANDLE, errno);
        }
        return desc != null ? desc : "errno " + errno;
    }

    /** Name and text, {@code "EINVAL, Invalid argument"}, or {@code "error 22"} when libc cannot name it. */
    public static String describe(int errno) {
        String name = name(errno).orElse(null);
        return name == null ? "error " + errno : name + ", " + description(errno);
    }

    /**
     * The message of a failed call: {@code "SUBJECT: FUNCTION: TEXT (errno N)"}, e.g.
     * {@code "disk.img: open: No such file or directory (errno 2)"}; without the subject when it is null.
     */
    public static String message(String function, String subject, int errno) {
        String call = function + ": " + description(errno) + " (errno " + errno + ")";
        return subject == null ? call : subject + ": " + call;
    }

    @SuppressWarnings("restricted") // the result is a NUL-terminated string, or NULL
    private static String text(MethodHandle handle, int errno) {
        try {
            MemorySegment s = (MemorySegment) handle.invokeExact(errno);
            return s.equals(MemorySegment.NULL) ? null : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}

package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.jhyve.hv.HypervisorException;

/**
 * Turns a failed call and its errno into a {@link HypervisorException} whose message names the call, the
 * errno symbol and its text, e.g. {@code "ioctl KVM_CREATE_VM failed: EINVAL, Invalid argument (errno 22)"},
 * as Netty's {@code Errors} does for its native transports.
 *
 * <p>The texts come from glibc's {@code strerrorname_np}/{@code strerrordesc_np} (2.32+), which return
 * constant strings and so, unlike {@code strerror}, are thread-safe; on an older libc only the number is shown.
 */
final class NativeErrors {
    private NativeErrors() {}

    private static final MethodHandle STRERRORNAME = optional("strerrorname_np");
    private static final MethodHandle STRERRORDESC = optional("strerrordesc_np");

    @SuppressWarnings("restricted")
    private static MethodHandle optional(String name) {
        return Libc.optionalSymbol(name)
                .map(s -> Linker.nativeLinker().downcallHandle(s, FunctionDescriptor.of(ADDRESS, JAVA_INT)))
                .orElse(null);
    }

    static HypervisorException ioctlFailed(Ioctl request, int errno) {
        return callFailed("ioctl " + request.name(), errno);
    }

    static HypervisorException callFailed(String call, int errno) {
        return new HypervisorException(call + " failed: " + describe(errno), errno);
    }

    /** {@code "EINVAL, Invalid argument"}, or {@code "error 22"} when libc cannot name it. */
    static String describe(int errno) {
        String name = text(STRERRORNAME, errno);
        String desc = text(STRERRORDESC, errno);
        if (name == null) return "error " + errno;
        return desc == null ? name : name + ", " + desc;
    }

    @SuppressWarnings("restricted") // the result is a NUL-terminated constant string
    private static String text(MethodHandle handle, int errno) {
        if (handle == null) return null;
        try {
            MemorySegment s = (MemorySegment) handle.invokeExact(errno);
            return s.equals(MemorySegment.NULL) ? null : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}

package org.jhyve.posix;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;

/**
 * How this package links libc: the one place that calls {@link Linker#downcallHandle}. Handles are kept in
 * {@code static final} fields by their users, so the JIT can inline the call, each in a holder class of its
 * own ({@code private static final class Open { static final MethodHandle HANDLE = ...; }}) so that it is
 * linked on its first call, not when the class using it is: linking a downcall generates and loads classes
 * (about 9 ms a function on a 2-core host before the JIT has run; {@link Libc} declares two dozen, of which
 * a VM's start calls a handful).
 *
 * <p>A function libc does not have (fallocate and eventfd are Linux's own) links to a handle that throws
 * {@link UnsatisfiedLinkError} when called, rather than failing the class that declares it: on another
 * system the rest of the class still works.
 */
final class Native {
    private Native() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();

    /** Layout of the call-state segment that errno is captured into. */
    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /**
     * A function that reports failure through errno: the handle takes the call-state segment as its first
     * argument, and errno is read from there after the call (a second downcall to read errno would race with
     * the JVM's own use of libc on the same thread).
     */
    static MethodHandle errnoCall(String name, FunctionDescriptor fd, Linker.Option... options) {
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = CAPTURE_ERRNO;
        System.arraycopy(options, 0, all, 1, options.length);
        return link(name, fd, fd.toMethodType().insertParameterTypes(0, MemorySegment.class), all);
    }

    /** A function that does not set errno, or whose errno nobody reads. */
    static MethodHandle call(String name, FunctionDescriptor fd, Linker.Option... options) {
        return link(name, fd, fd.toMethodType(), options);
    }

    /** The address of a libc function, for passing it to C (a signal handler). */
    static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> missing(name));
    }

    static Optional<MemorySegment> optionalSymbol(String name) {
        return LIBC.find(name);
    }

    @SuppressWarnings("restricted") // native access is this module's purpose; jhyve runs with --enable-native-access
    private static MethodHandle link(String name, FunctionDescriptor fd, MethodType type, Linker.Option... options) {
        Optional<MemorySegment> address = LIBC.find(name);
        if (address.isPresent()) return LINKER.downcallHandle(address.get(), fd, options);
        MethodHandle thrower = MethodHandles.throwException(type.returnType(), UnsatisfiedLinkError.class).bindTo(missing(name));
        return MethodHandles.dropArguments(thrower, 0, type.parameterList());
    }

    private static UnsatisfiedLinkError missing(String name) {
        return new UnsatisfiedLinkError("libc has no " + name);
    }

    /** What a downcall threw, unchecked: downcall handles declare Throwable but throw no checked exception. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}

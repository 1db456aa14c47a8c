package org.jhyve.kvm;

import java.lang.foreign.MemorySegment;
import org.jhyve.hv.HypervisorException;
import org.jhyve.posix.ErrnoException;
import org.jhyve.posix.Errno;
import org.jhyve.posix.Posix;
import org.jhyve.posix.Signals;

/**
 * The libc calls native-kvm makes, through jhyve's POSIX layer ({@code org.jhyve.posix}), failing as the
 * hypervisor SPI says: with a {@link HypervisorException} whose message names the call, the errno symbol and its
 * text, e.g. {@code "ioctl KVM_CREATE_VM failed: EINVAL, Invalid argument (errno 22)"}. Only what is KVM's is
 * here: the {@link Ioctl} requests by name. Any thread may call these.
 */
final class HostCalls {
    private HostCalls() {}

    /** ioctl with a struct argument; retried on EINTR (every KVM ioctl but KVM_RUN may simply be repeated). */
    static int ioctl(int fd, Ioctl request, MemorySegment arg) {
        try {
            return Posix.ioctl(fd, request.number(), arg);
        } catch (ErrnoException e) {
            throw ioctlFailed(request, e.errno());
        }
    }

    /** ioctl with an integer argument (or none: pass 0); retried on EINTR. */
    static int ioctl(int fd, Ioctl request, long arg) {
        try {
            return Posix.ioctl(fd, request.number(), arg);
        } catch (ErrnoException e) {
            throw ioctlFailed(request, e.errno());
        }
    }

    static int open(String path, int flags) {
        try {
            return Posix.open(path, flags);
        } catch (ErrnoException e) {
            throw callFailed("open(" + path + ")", e.errno());
        }
    }

    /** Closes a file descriptor; EINTR counts as closed (see {@link Posix#close}). */
    static void close(int fd) {
        try {
            Posix.close(fd);
        } catch (ErrnoException e) {
            throw callFailed("close(" + fd + ")", e.errno());
        }
    }

    /** mmap; the result is a zero-length segment at the mapping's address (reinterpret it with an arena). */
    static MemorySegment mmap(long length, int prot, int flags, int fd, long offset) {
        try {
            return Posix.mmap(length, prot, flags, fd, offset);
        } catch (ErrnoException e) {
            throw callFailed("mmap(" + length + " bytes)", e.errno());
        }
    }

    static void munmap(MemorySegment address, long length) {
        try {
            Posix.munmap(address, length);
        } catch (ErrnoException e) {
            throw callFailed("munmap(" + length + " bytes)", e.errno());
        }
    }

    /**
     * mlock: the range stays in RAM. Past RLIMIT_MEMLOCK (ENOMEM, or EPERM with a limit of 0) the message says
     * which limit, since that is what the user changes.
     */
    static void mlock(MemorySegment address, long length) {
        try {
            Posix.mlock(address, length);
        } catch (ErrnoException e) {
            boolean limit = e.errno() == Errno.ENOMEM || e.errno() == Errno.EPERM || e.errno() == Errno.EAGAIN;
            throw new HypervisorException("cannot wire " + (length >> 20) + " MiB of guest RAM (mlock: " + Errno.describe(e.errno()) + ")"
                    + (limit ? ": RLIMIT_MEMLOCK is too low (ulimit -l, or LimitMEMLOCK= in a systemd unit) or CAP_IPC_LOCK is missing" : ""));
        }
    }

    /** Unblocks {@code signal} in the calling thread. */
    static void unblockSignal(int signal) {
        try {
            Signals.unblock(signal);
        } catch (ErrnoException e) {
            throw callFailed("pthread_sigmask(SIG_UNBLOCK, " + signal + ")", e.errno());
        }
    }

    static HypervisorException ioctlFailed(Ioctl request, int errno) {
        return callFailed("ioctl " + request.name(), errno);
    }

    static HypervisorException callFailed(String call, int errno) {
        return new HypervisorException(call + " failed: " + Errno.describe(errno), errno);
    }
}

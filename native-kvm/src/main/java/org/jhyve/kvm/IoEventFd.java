package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jhyve.posix.EventFd;

/**
 * A guest write that KVM completes in the kernel by signalling an eventfd, with no exit to userspace
 * (KVM_IOEVENTFD): the fast path for doorbells such as virtio queue notifications. Created by
 * {@link KvmVm#registerIoEventFd}; closing deassigns it and closes its eventfd.
 */
public final class IoEventFd implements AutoCloseable {
    /** Which address space the address is in. */
    public enum Space { PIO, MMIO }

    private final KvmVm vm;
    private final Space space;
    private final long address;
    private final int length;
    private final OptionalLong datamatch;
    private final EventFd eventFd;
    /** False when the eventfd belongs to someone else (a {@link KvmDoorbell}) and outlives this binding. */
    private final boolean ownsEventFd;
    private final AtomicBoolean closed = new AtomicBoolean();

    IoEventFd(KvmVm vm, Space space, long address, int length, OptionalLong datamatch) {
        this(vm, space, address, length, datamatch, new EventFd(), true);
    }

    IoEventFd(KvmVm vm, Space space, long address, int length, OptionalLong datamatch, EventFd eventFd, boolean ownsEventFd) {
        if (length != 0 && length != 1 && length != 2 && length != 4 && length != 8) {
            throw new IllegalArgumentException("ioeventfd length must be 0 (any), 1, 2, 4 or 8: " + length);
        }
        if (space == Space.PIO && (address < 0 || address > 0xffff)) {
            throw new IllegalArgumentException("port out of range: 0x" + Long.toHexString(address));
        }
        this.vm = vm;
        this.space = space;
        this.address = address;
        this.length = length;
        this.datamatch = datamatch;
        this.eventFd = eventFd;
        this.ownsEventFd = ownsEventFd;
        try {
            assign(0);
        } catch (RuntimeException e) {
            if (ownsEventFd) eventFd.close();
            throw e;
        }
    }

    private void assign(int extraFlags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmStructs.KVM_IOEVENTFD);
            int flags = extraFlags;
            if (space == Space.PIO) flags |= KvmAbi.IOEVENTFD_FLAG_PIO;
            if (datamatch.isPresent()) {
                flags |= KvmAbi.IOEVENTFD_FLAG_DATAMATCH;
                s.set(JAVA_LONG, KvmStructs.IOEVENTFD_DATAMATCH, datamatch.getAsLong());
            }
            s.set(JAVA_LONG, KvmStructs.IOEVENTFD_ADDR, address);
            s.set(JAVA_INT, KvmStructs.IOEVENTFD_LEN, length);
            s.set(JAVA_INT, KvmStructs.IOEVENTFD_FD, eventFd.fd());
            s.set(JAVA_INT, KvmStructs.IOEVENTFD_FLAGS, flags);
            HostCalls.ioctl(vm.fd(), KvmAbi.IOEVENTFD, s);
        }
    }

    public Space space() { return space; }

    public long address() { return address; }

    public int length() { return length; }

    public OptionalLong datamatch() { return datamatch; }

    /**
     * The eventfd KVM signals on each matching guest write. Package-private: the eventfd is jhyve's internal
     * POSIX layer's, which native-kvm does not export.
     */
    EventFd eventFd() { return eventFd; }

    /** Deassigns (while the VM is open) and closes the eventfd; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            // Once the VM fd is closed the kernel has dropped the binding, and the fd number may be reused.
            vm.whileOpen(() -> assign(KvmAbi.IOEVENTFD_FLAG_DEASSIGN));
        } finally {
            if (ownsEventFd) eventFd.close();
            vm.forget(this);
        }
    }
}

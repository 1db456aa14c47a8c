package org.jhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jhyve.posix.EventFd;

/**
 * An interrupt that any thread raises by writing an eventfd, which KVM turns into an edge on a GSI of the
 * in-kernel irqchip (KVM_IRQFD) without a trip through the VMM's ioctl path. Created by
 * {@link KvmVm#registerIrqFd}; closing deassigns it and closes the eventfd.
 */
public final class IrqFd implements AutoCloseable {
    private final KvmVm vm;
    private final int gsi;
    private final EventFd eventFd;
    private final AtomicBoolean closed = new AtomicBoolean();

    IrqFd(KvmVm vm, int gsi) {
        if (gsi < 0) throw new IllegalArgumentException("negative GSI: " + gsi);
        this.vm = vm;
        this.gsi = gsi;
        this.eventFd = new EventFd();
        try {
            assign(0);
        } catch (RuntimeException e) {
            eventFd.close();
            throw e;
        }
    }

    private void assign(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(KvmStructs.KVM_IRQFD);
            s.set(JAVA_INT, KvmStructs.IRQFD_FD, eventFd.fd());
            s.set(JAVA_INT, KvmStructs.IRQFD_GSI, gsi);
            s.set(JAVA_INT, KvmStructs.IRQFD_FLAGS, flags);
            HostCalls.ioctl(vm.fd(), KvmAbi.IRQFD, s);
        }
    }

    public int gsi() { return gsi; }

    /** The eventfd KVM waits on; package-private, as {@link IoEventFd#eventFd()}. */
    EventFd eventFd() { return eventFd; }

    /** Raises the interrupt (an edge on the GSI). */
    public void trigger() {
        eventFd.signal(1);
    }

    /** Deassigns (while the VM is open) and closes the eventfd; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            vm.whileOpen(() -> assign(KvmAbi.IRQFD_FLAG_DEASSIGN));
        } finally {
            eventFd.close();
            vm.forget(this);
        }
    }
}

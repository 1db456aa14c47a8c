package org.jhyve.vm.debug;

import java.net.SocketAddress;
import java.util.List;
import org.jhyve.gdb.GdbServer;
import org.jhyve.hv.Vcpu;
import org.jhyve.memory.GuestMemory;

/**
 * A VM's GDB remote stub: the server gdb connects to ({@link GdbServer}) and the debugger it serves, whose
 * {@link #hooks()} the vCPU loops call. It listens from the VM's build on, so a port in use fails the build
 * rather than a running VM, and serves from the VM's start, with the vCPUs held before their first
 * instruction until gdb continues them (or, not held, running until a gdb attaches and stops them).
 *
 * <p>Threads: {@link #listen}, {@link #serve} and {@link #close} on the thread that builds, starts and closes
 * the VM; the hooks on the vCPU threads; {@link #vmEnded} on the thread that ended the VM; {@link #address} on any.
 */
public final class GdbStub implements AutoCloseable {
    private final VmDebugger debugger;
    private final GdbServer server;

    private GdbStub(VmDebugger debugger, GdbServer server) {
        this.debugger = debugger;
        this.server = server;
    }

    /**
     * Binds {@code address} for a debugger of {@code vcpus} and {@code memory}; gdb's {@code kill} runs
     * {@code kill}. Throws {@link java.io.UncheckedIOException} when the address cannot be listened on.
     */
    public static GdbStub listen(SocketAddress address, List<? extends Vcpu> vcpus, GuestMemory memory, Runnable kill) {
        return listen(address, vcpus, memory, kill, true);
    }

    /**
     * As {@link #listen(SocketAddress, List, GuestMemory, Runnable)}; with {@code startHeld} false the vCPUs run
     * from the start and stop when gdb attaches (bhyve's {@code -G} without {@code w}).
     */
    public static GdbStub listen(SocketAddress address, List<? extends Vcpu> vcpus, GuestMemory memory, Runnable kill, boolean startHeld) {
        VmDebugger debugger = new VmDebugger(List.copyOf(vcpus), memory, kill, startHeld);
        // Loopback or a 0600 Unix socket, and only jhyve's own user served: the stub reads and writes all of guest memory.
        return new GdbStub(debugger, GdbServer.listen(address));
    }

    /** What the vCPU loops call: run control, breakpoints and steps. */
    public VcpuDebugHooks hooks() {
        return debugger;
    }

    /** Starts serving gdb, once the vCPU threads run. */
    public void serve() {
        server.serve(debugger);
    }

    /** The VM ended with exit status {@code exitCode}: held vCPUs leave, a waiting gdb hears it. */
    public void vmEnded(int exitCode) {
        debugger.vmEnded(exitCode);
    }

    /** Where the stub listens: a loopback {@code InetSocketAddress} with its port bound, or a Unix socket's. */
    public SocketAddress address() {
        return server.address();
    }

    @Override
    public void close() {
        server.close();
    }
}

package org.jhyve.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import org.jhyve.hv.VmExit;
import org.jhyve.trace.ExitReasons;

/**
 * A vCPU exit, timed from the hypervisor's return to the next run: what jhyve spent handling it. Stack
 * traces are off: they would all be the vCPU loop's.
 *
 * <p>Use: {@code var e = new VmExitEvent(); e.begin(); handle(exit); e.complete(index, exit);}. Without a
 * recording that enables the event the methods are empty and the JIT removes the allocation.
 */
@Name("jhyve.VmExit")
@Label("VM Exit")
@Category("jhyve")
@Description("A vCPU left the guest; the duration is how long jhyve took to handle the exit")
@StackTrace(false)
public final class VmExitEvent extends Event {
    @Label("vCPU")
    int vcpu;

    @Label("Reason")
    @Description("pio, mmio, halt, interrupted, system-event, ...")
    String reason;

    @Label("Port or Address")
    @Description("The port of a port-IO exit or the guest-physical address of an MMIO exit; -1 for other exits")
    @MemoryAddress
    long address;

    @Label("Size")
    @Description("Bytes per access for port IO and MMIO; 0 for other exits")
    int size;

    @Label("Write")
    boolean write;

    /** Ends the event and commits it if a recording wants it. */
    public void complete(int vcpuIndex, VmExit exit) {
        end(); // shouldCommit() compares the duration with the threshold; without end() it is 0
        if (!shouldCommit()) return;
        vcpu = vcpuIndex;
        reason = ExitReasons.of(exit);
        address = ExitReasons.addressOf(exit);
        switch (exit) {
            case VmExit.PortIo io -> {
                size = io.size();
                write = io.write();
            }
            case VmExit.Mmio m -> {
                size = m.length();
                write = m.write();
            }
            default -> { }
        }
        commit();
    }
}

package org.jhyve.vm.debug;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jhyve.gdb.Breakpoint;
import org.jhyve.hv.GuestDebug;
import org.jhyve.hv.GuestDebug.HardwareBreakpoint;
import org.jhyve.memory.GuestMemory;

/**
 * The debugger's breakpoints: {@code int3} bytes planted in guest RAM (with the bytes they replaced), and
 * up to four debug-register breakpoints and watchpoints. Memory reads are shown with the original bytes, and
 * writes over a planted {@code int3} update the byte it stands for, as gdbserver does. Synchronized: vCPU
 * threads look breakpoints up while the debugger changes them (a detach while the guest runs).
 */
final class DebugBreakpoints {
    static final byte INT3 = (byte) 0xcc;

    /** A planted {@code int3}: where it is in guest-physical memory, and the byte it replaced. */
    private record Planted(long physical, byte original) {}

    private final GuestMemory memory;
    /** By virtual address, as gdb names them. */
    private final Map<Long, Planted> software = new HashMap<>();
    /** In debug-register order: slot i is DR<i>i</i>. */
    private final List<Breakpoint> hardware = new ArrayList<>();

    DebugBreakpoints(GuestMemory memory) {
        this.memory = memory;
    }

    synchronized boolean plant(long address, long physical) {
        if (software.containsKey(address)) return true; // gdb may insert the same one again
        software.put(address, new Planted(physical, memory.readByte(physical)));
        memory.writeByte(physical, INT3);
        return true;
    }

    synchronized boolean isPlanted(long address) {
        return software.containsKey(address);
    }

    synchronized boolean hasSoftware() {
        return !software.isEmpty();
    }

    synchronized boolean unplant(long address) {
        Planted p = software.remove(address);
        if (p == null) return false;
        memory.writeByte(p.physical(), p.original());
        return true;
    }

    /** False when all four debug registers are taken (or the kind cannot be had: a read-only watch, a bad length). */
    synchronized boolean addHardware(Breakpoint bp) {
        if (hardware.contains(bp)) return true;
        if (hardware.size() == GuestDebug.HARDWARE_SLOTS) return false;
        try {
            toDebugRegister(bp);
        } catch (IllegalArgumentException e) {
            return false;
        }
        hardware.add(bp);
        return true;
    }

    synchronized boolean removeHardware(Breakpoint bp) {
        return hardware.remove(bp);
    }

    /** The breakpoint in debug register {@code slot}, if any. */
    synchronized Optional<Breakpoint> hardwareSlot(int slot) {
        return slot < hardware.size() ? Optional.of(hardware.get(slot)) : Optional.empty();
    }

    /** What the vCPUs must intercept for these breakpoints. */
    synchronized GuestDebug guestDebug() {
        return new GuestDebug(false, !software.isEmpty(), hardware.stream().map(DebugBreakpoints::toDebugRegister).toList());
    }

    private static HardwareBreakpoint toDebugRegister(Breakpoint bp) {
        return switch (bp.type()) {
            case HARDWARE -> new HardwareBreakpoint(bp.address(), HardwareBreakpoint.Kind.EXECUTE, 1);
            case WRITE_WATCH -> new HardwareBreakpoint(bp.address(), HardwareBreakpoint.Kind.WRITE, bp.length());
            case ACCESS_WATCH -> new HardwareBreakpoint(bp.address(), HardwareBreakpoint.Kind.ACCESS, bp.length());
            case SOFTWARE, READ_WATCH -> throw new IllegalArgumentException(bp.type() + " is not a debug-register kind");
        };
    }

    /** {@code data} read at virtual {@code address}, with each planted {@code int3} in it shown as the original byte. */
    synchronized byte[] hide(long address, byte[] data) {
        software.forEach((at, p) -> {
            long offset = at - address;
            if (offset >= 0 && offset < data.length) data[(int) offset] = p.original();
        });
        return data;
    }

    /** After {@code data} was written at virtual {@code address}: planted bytes it covered stay int3, remembering the new byte. */
    synchronized void rewritten(long address, byte[] data) {
        software.replaceAll((at, p) -> {
            long offset = at - address;
            if (offset < 0 || offset >= data.length) return p;
            memory.writeByte(p.physical(), INT3);
            return new Planted(p.physical(), data[(int) offset]);
        });
    }

    /** Puts every original byte back and frees the debug registers. */
    synchronized void clear() {
        for (Long address : List.copyOf(software.keySet())) unplant(address);
        hardware.clear();
    }
}

package org.jhyve.gdb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jhyve.hv.DescriptorTable;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;

/**
 * A {@link GdbTarget} of plain fields for protocol tests: two threads, 256 bytes of "RAM" at virtual 0x1000,
 * and a record of every breakpoint and resume it was asked for.
 */
final class FakeTarget implements GdbTarget {
    static final long RAM_BASE = 0x1000;

    final Map<Integer, CpuState> registers = new HashMap<>();
    final byte[] ram = new byte[256];
    final List<Breakpoint> breakpoints = new ArrayList<>();
    final List<Map<Integer, ResumeAction>> resumes = new ArrayList<>();
    /** Set and counted on the session's thread, read by the test's. */
    volatile Consumer<Stop> whenStopped;
    volatile int interrupts;
    volatile boolean detached;
    boolean killed;
    int hardwareSlots = 4;

    FakeTarget() {
        for (int t = 1; t <= 2; t++) registers.put(t, state(t));
        for (int i = 0; i < ram.length; i++) ram[i] = (byte) i;
    }

    /**
     * Thread t: rax = t, rbx = 0x1111..., rsp 0x8ff0, rbp 0x9000, rip 0x100000 + t; 64-bit flat segments; st0 in use;
     * XMM byte i of the 256 is i; MXCSR 0x1f80.
     */
    static CpuState state(int t) {
        Registers regs = new Registers(t, 0x1111_2222_3333_4444L, 3, 4, 5, 6, 0x8ff0, 0x9000, 8, 9, 10, 11, 12, 13, 14, 15,
                0x100000 + t, 0x246);
        Segment data = Segment.data(0x18);
        Segment fs = new Segment(0x7000_0000L, 0xffffffff, 0, 0x3, true, 0, true, true, false, true, false, false);
        DescriptorTable none = new DescriptorTable(0, 0xffff);
        SpecialRegisters sregs = new SpecialRegisters(Segment.code64(0x10), data, data, fs, data, data, data, data, none, none,
                0x80050033L, 0, 0x1000, 0x20, 0, 0x500, 0xfee00000L);
        byte[] fpr = new byte[128];
        fpr[0] = 0x12; // st0's low byte
        fpr[9] = 0x3f; // st0's high byte (sign and exponent)
        byte[] xmm = new byte[256];
        for (int i = 0; i < xmm.length; i++) xmm[i] = (byte) i; // xmm5 is 50 51 ... 5f, least significant first
        return new CpuState(regs, sregs, new FpuState(fpr, 0x37f, 0, 0x01, 0, 0, 0, xmm, 0x1f80));
    }

    @Override public int threadCount() { return 2; }

    @Override public String describeThread(int thread) { return "vCPU " + (thread - 1); }

    @Override public Stop attach() { return new Stop.Trapped(1, Stop.Cause.NONE); }

    @Override public CpuState readRegisters(int thread) { return registers.get(thread); }

    @Override public void writeRegisters(int thread, CpuState state) { registers.put(thread, state); }

    @Override
    public byte[] readMemory(int thread, long address, int length) {
        if (address < RAM_BASE || address >= RAM_BASE + ram.length) return new byte[0];
        int from = (int) (address - RAM_BASE);
        return Arrays.copyOfRange(ram, from, Math.min(ram.length, from + length));
    }

    @Override
    public boolean writeMemory(int thread, long address, byte[] data) {
        if (address < RAM_BASE || address + data.length > RAM_BASE + ram.length) return false;
        System.arraycopy(data, 0, ram, (int) (address - RAM_BASE), data.length);
        return true;
    }

    @Override
    public boolean insertBreakpoint(Breakpoint bp) {
        if (bp.type() != Breakpoint.Type.SOFTWARE && breakpoints.stream().filter(b -> b.type() != Breakpoint.Type.SOFTWARE).count() >= hardwareSlots) {
            return false;
        }
        breakpoints.add(bp);
        return true;
    }

    @Override public boolean removeBreakpoint(Breakpoint bp) { return breakpoints.remove(bp); }

    @Override
    public void resume(Map<Integer, ResumeAction> actions, Consumer<Stop> whenStopped) {
        resumes.add(actions);
        this.whenStopped = whenStopped;
    }

    @Override public void interrupt() { interrupts++; }

    @Override public void detach() { detached = true; }

    @Override public void kill() { killed = true; }
}

package org.jhyve.x86;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.memory.SegmentGuestMemory;

/**
 * A guest for MMIO emulation tests: 4 MiB of heap RAM, paging that maps every linear address below 4 GiB to
 * itself (so 0xfee00000 and up are MMIO) with explicit remaps and holes, code at {@link #CODE}, a stack at
 * {@link #STACK}, and a bus that answers every read with one value and records every access.
 *
 * <p>Registers are written as "rax=0x12 rflags=0x46": the names of {@link Registers}' components.
 */
final class MmioBench {
    static final long RAM = 4L << 20;
    static final long CODE = 0x10_0000;
    static final long STACK = 0x20_0000;
    static final long DATA = 0x30_0000;
    /** The faulting MMIO address: inside a page, so a wrong offset shows. */
    static final long MMIO = 0xfee0_0030L;
    static final long OTHER_MMIO = 0xfec0_0010L;

    /** One bus access; written "r4", "w2=0x1234", "r8@0xfec00010". */
    record BusOp(boolean write, long gpa, int size, long value) {
        static List<BusOp> parse(String text) {
            if (text.isBlank()) return List.of();
            return Arrays.stream(text.split(",\\s*")).map(BusOp::parseOne).toList();
        }

        private static BusOp parseOne(String op) {
            long gpa = MMIO;
            int at = op.indexOf('@');
            if (at >= 0) {
                gpa = number(op.substring(at + 1));
                op = op.substring(0, at);
            }
            int eq = op.indexOf('=');
            int size = Integer.parseInt(op.substring(1, eq < 0 ? op.length() : eq));
            return new BusOp(op.charAt(0) == 'w', gpa, size, eq < 0 ? -1 : number(op.substring(eq + 1)));
        }
    }

    /** Answers every read with {@code readValue}; records reads with value -1 so rows need not repeat it. */
    static final class FakeBus implements MmioBus {
        private final long readValue;
        private final List<BusOp> ops = new ArrayList<>();

        FakeBus(long readValue) { this.readValue = readValue; }

        @Override
        public long read(long gpa, int size) {
            ops.add(new BusOp(false, gpa, size, -1));
            return readValue;
        }

        @Override
        public void write(long gpa, int size, long value) {
            ops.add(new BusOp(true, gpa, size, value));
        }

        List<BusOp> ops() { return List.copyOf(ops); }
    }

    /** The components of {@link Registers}, in order. */
    private static final List<String> REGISTER_NAMES = List.of("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags");

    final SegmentGuestMemory memory = SegmentGuestMemory.onHeap(RAM);
    private final Map<Long, Long> remapped = new HashMap<>();
    private final Set<Long> holes = new HashSet<>();
    final MmioInstructionEmulator emulator = new MmioInstructionEmulator();

    final LinearTranslator paging = linear -> {
        long page = linear & ~0xFFFL;
        if (holes.contains(page)) return -1;
        Long physical = remapped.get(page);
        if (physical != null) return physical | linear & 0xFFF;
        return Long.compareUnsigned(linear, 1L << 32) < 0 ? linear : -1;
    };

    MmioBench mapPage(long linear, long physical) {
        remapped.put(linear & ~0xFFFL, physical & ~0xFFFL);
        return this;
    }

    MmioBench unmapPage(long linear) {
        holes.add(linear & ~0xFFFL);
        return this;
    }

    MmioResult emulate(String hex, Registers regs, SpecialRegisters sregs, FakeBus bus) {
        memory.write(CODE, Hex.bytes(hex));
        return emulator.emulate(regs, sregs, paging, memory, MMIO, bus);
    }

    MmioDescription describe(String hex, Registers regs, SpecialRegisters sregs) {
        memory.write(CODE, Hex.bytes(hex));
        return emulator.describe(regs, sregs, paging, memory, MMIO);
    }

    /** RIP at CODE, RSP at STACK, RFLAGS 0x2, then {@code changes}. */
    static Registers regs(String changes) {
        return apply(Registers.initial(CODE).withRsp(STACK), changes);
    }

    /** {@code base} with {@code changes} applied, written as "rax=0x12 rbx=7". */
    static Registers apply(Registers base, String changes) {
        long[] v = {base.rax(), base.rbx(), base.rcx(), base.rdx(), base.rsi(), base.rdi(), base.rsp(), base.rbp(),
                base.r8(), base.r9(), base.r10(), base.r11(), base.r12(), base.r13(), base.r14(), base.r15(),
                base.rip(), base.rflags()};
        for (String assignment : changes.trim().split("\\s+")) {
            if (assignment.isEmpty()) continue;
            String[] parts = assignment.split("=");
            int index = REGISTER_NAMES.indexOf(parts[0]);
            if (index < 0) throw new IllegalArgumentException("no register " + parts[0]);
            v[index] = number(parts[1]);
        }
        return new Registers(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
                v[14], v[15], v[16], v[17]);
    }

    static long number(String text) {
        String t = text.replace("_", "");
        return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
    }
}

package org.jhyve.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.x86.MmioBench.CODE;
import static org.jhyve.x86.MmioBench.MMIO;

import java.util.List;
import java.util.stream.Stream;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.x86.MmioBench.BusOp;
import org.jhyve.x86.MmioBench.FakeBus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Single MMIO instructions in 64-bit mode, one row each: the bytes, the registers before (over RIP = CODE,
 * RSP = STACK, RFLAGS = 0x2), what the device returns on a read, the registers that change (RIP moves past the
 * instruction unless the row says otherwise) and the bus accesses in order (reads are written without a value).
 * The memory operand always addresses MMIO = 0xfee00030.
 */
class MmioInstructionEmulatorTest {
    private static final long READ = 0xF0F1_F2F3_F4F5_F6F7L;
    private static final String RAX_MMIO = "rax=0xfee00030 ";
    private static final String RBX = "rbx=0x1122334455667788 ";

    /**
     * @param hex    the instruction
     * @param before registers that differ from the bench's initial ones
     * @param read   what every bus read returns
     * @param after  registers that differ from {@code before} afterwards (plus RIP past the instruction)
     * @param bus    the expected accesses
     */
    record Row(String hex, String before, long read, String after, String bus) {
        @Override
        public String toString() { return hex + " [" + before.trim() + "]"; }
    }

    static Stream<Row> moves() {
        return Stream.of(
                // MOV Eb,Gb: BL, then BH (no REX: ModRM.reg 7 is BH), then DIL (any REX makes 7 DIL).
                new Row("88 18", RAX_MMIO + RBX, 0, "", "w1=0x88"),
                new Row("88 38", RAX_MMIO + RBX, 0, "", "w1=0x77"),
                new Row("40 88 38", RAX_MMIO + "rdi=0xab", 0, "", "w1=0xab"),
                new Row("66 89 18", RAX_MMIO + RBX, 0, "", "w2=0x7788"),
                new Row("89 18", RAX_MMIO + RBX, 0, "", "w4=0x55667788"),
                new Row("48 89 18", RAX_MMIO + RBX, 0, "", "w8=0x1122334455667788"),
                new Row("4c 89 00", RAX_MMIO + "r8=0x8877665544332211", 0, "", "w8=0x8877665544332211"),
                // REX.B base and SIB with index*4 and disp8.
                new Row("41 89 5c 8f 08", "r15=0xfee00020 rcx=2 " + RBX, 0, "", "w4=0x55667788"),
                new Row("89 1c 88", "rax=0xfee00020 rcx=4 " + RBX, 0, "", "w4=0x55667788"),
                // MOV Gb,Eb merges 8 and 16 bits, zero-extends 32.
                new Row("8a 18", RAX_MMIO + RBX, READ, "rbx=0x11223344556677f7", "r1"),
                new Row("8a 38", RAX_MMIO + RBX, READ, "rbx=0x112233445566f788", "r1"),
                new Row("40 8a 38", RAX_MMIO + "rdi=0x1111111111111111", READ, "rdi=0x11111111111111f7", "r1"),
                new Row("66 8b 18", RAX_MMIO + RBX, READ, "rbx=0x11223344_5566f6f7", "r2"),
                new Row("8b 18", RAX_MMIO + RBX, READ, "rbx=0xf4f5f6f7", "r4"),
                new Row("48 8b 18", RAX_MMIO + RBX, READ, "rbx=0xf0f1f2f3f4f5f6f7", "r8"),
                new Row("44 8b 38", RAX_MMIO + "r15=-1", READ, "r15=0xf4f5f6f7", "r4"),
                // MOV Ev,Iz: imm32 sign-extended at REX.W.
                new Row("c6 00 5a", RAX_MMIO, 0, "", "w1=0x5a"),
                new Row("66 c7 00 34 12", RAX_MMIO, 0, "", "w2=0x1234"),
                new Row("c7 00 78 56 34 12", RAX_MMIO, 0, "", "w4=0x12345678"),
                new Row("48 c7 00 f0 ff ff ff", RAX_MMIO, 0, "", "w8=0xfffffffffffffff0"),
                // moffs forms carry a 64-bit address in 64-bit mode; AL is never AH.
                new Row("a0 30 00 e0 fe 00 00 00 00", "rax=0x1111", READ, "rax=0x11f7", "r1"),
                new Row("a1 30 00 e0 fe 00 00 00 00", "rax=-1", READ, "rax=0xf4f5f6f7", "r4"),
                new Row("48 a1 30 00 e0 fe 00 00 00 00", "", READ, "rax=0xf0f1f2f3f4f5f6f7", "r8"),
                new Row("a2 30 00 e0 fe 00 00 00 00", "rax=0x1234", 0, "", "w1=0x34"),
                new Row("66 a3 30 00 e0 fe 00 00 00 00", "rax=0x12345678", 0, "", "w2=0x5678"),
                new Row("48 a3 30 00 e0 fe 00 00 00 00", "rax=0x1122334455667788", 0, "", "w8=0x1122334455667788"),
                // MOVZX/MOVSX/MOVSXD.
                new Row("0f b6 18", RAX_MMIO + RBX, READ, "rbx=0xf7", "r1"),
                new Row("66 0f b6 18", RAX_MMIO + RBX, READ, "rbx=0x11223344556600f7", "r1"),
                new Row("48 0f b7 18", RAX_MMIO + RBX, READ, "rbx=0xf6f7", "r2"),
                new Row("0f be 18", RAX_MMIO + RBX, 0x80, "rbx=0xffffff80", "r1"),
                new Row("0f be 18", RAX_MMIO + RBX, 0x7f, "rbx=0x7f", "r1"),
                new Row("66 0f be 18", RAX_MMIO + RBX, 0x80, "rbx=0x112233445566ff80", "r1"),
                new Row("48 0f bf 18", RAX_MMIO + RBX, 0x8000, "rbx=0xffffffffffff8000", "r2"),
                new Row("0f bf 18", RAX_MMIO + RBX, 0x8000, "rbx=0xffff8000", "r2"),
                new Row("48 63 18", RAX_MMIO + RBX, 0x80000000L, "rbx=0xffffffff80000000", "r4"),
                new Row("63 18", RAX_MMIO + RBX, 0x80000000L, "rbx=0x80000000", "r4"));
    }

    static Stream<Row> arithmetic() {
        return Stream.of(
                // ADD: carry out, zero, parity, aux carry from bit 3.
                new Row("01 18", RAX_MMIO + "rbx=1", 0xffffffffL, "rflags=0x57", "r4, w4=0"),
                // 0x7f + 1: signed overflow, sign, aux; 0x80 has one bit set, so PF clear.
                new Row("00 18", RAX_MMIO + "rbx=1", 0x7f, "rflags=0x892", "r1, w1=0x80"),
                new Row("00 38", RAX_MMIO + "rbx=0x0100", 0x7f, "rflags=0x892", "r1, w1=0x80"),
                new Row("02 38", RAX_MMIO + "rbx=0x0100", 0x7f, "rbx=0x8000 rflags=0x892", "r1"),
                new Row("66 01 18", RAX_MMIO + "rbx=0x8000", 0x8000, "rflags=0x847", "r2, w2=0"),
                // Register destination: the 32-bit result zero-extends; 3 has two bits set, so PF.
                new Row("03 18", RAX_MMIO + "rbx=0x1122334400000001", 2, "rbx=3 rflags=0x6", "r4"),
                new Row("48 01 18", RAX_MMIO + "rbx=0x7fffffffffffffff", 1,
                        "rflags=0x896", "r8, w8=0x8000000000000000"),
                // ADC/SBB use CF.
                new Row("11 18", RAX_MMIO + "rflags=0x3", 0xffffffffL, "rflags=0x57", "r4, w4=0"),
                new Row("19 18", RAX_MMIO + "rflags=0x3", 0, "rflags=0x97", "r4, w4=0xffffffff"),
                new Row("19 18", RAX_MMIO + "rflags=0x2", 0, "rflags=0x46", "r4, w4=0"),
                // SUB: borrow; CMP writes nothing.
                new Row("48 29 18", RAX_MMIO + "rbx=1", 0, "rflags=0x97", "r8, w8=0xffffffffffffffff"),
                new Row("39 18", RAX_MMIO + "rbx=5", 5, "rflags=0x46", "r4"),
                new Row("3b 18", RAX_MMIO + "rbx=0x80000000", 1, "rflags=0x816", "r4"),
                new Row("38 38", RAX_MMIO + "rbx=0x1000", 0x10, "rflags=0x46", "r1"),
                new Row("38 38", RAX_MMIO + "rbx=0x1100", 0x10, "rflags=0x97", "r1"),
                // Logic clears CF, OF and AF whatever they were.
                new Row("21 18", RAX_MMIO + "rbx=0x0ff00ff0 rflags=0x853", 0xf0f0f0f0L, "rflags=0x6", "r4, w4=0x00f000f0"),
                new Row("09 18", RAX_MMIO + "rflags=0x803", 0x80000000L, "rflags=0x86", "r4, w4=0x80000000"),
                new Row("31 18", RAX_MMIO + "rbx=0xabcd", 0xabcd, "rflags=0x46", "r4, w4=0"),
                new Row("0a 18", RAX_MMIO + "rbx=0x0f", 0x10, "rbx=0x1f rflags=0x2", "r1"),
                // Group 1 with immediates: 83 sign-extends its byte, 81 its dword at REX.W.
                new Row("83 00 ff", RAX_MMIO, 1, "rflags=0x57", "r4, w4=0"),
                new Row("48 83 28 01", RAX_MMIO, 0x8000000000000000L, "rflags=0x816", "r8, w8=0x7fffffffffffffff"),
                new Row("80 38 80", RAX_MMIO, 0x7f, "rflags=0x887", "r1"),
                new Row("81 08 00 00 00 80", RAX_MMIO, 0x1, "rflags=0x82", "r4, w4=0x80000001"),
                new Row("48 81 20 00 ff ff ff", RAX_MMIO, 0x1234567812345678L, "rflags=0x6", "r8, w8=0x1234567812345600"),
                new Row("66 81 00 01 00", RAX_MMIO, 0xffff, "rflags=0x57", "r2, w2=0"),
                new Row("66 83 30 ff", RAX_MMIO, 0x00ff, "rflags=0x86", "r2, w2=0xff00"),
                new Row("f0 01 18", RAX_MMIO + "rbx=1", 1, "rflags=0x2", "r4, w4=2"),
                // TEST: AND's flags, no write.
                new Row("85 18", RAX_MMIO + "rbx=0xffffffff rflags=0x803", 0x80000000L, "rflags=0x86", "r4"),
                new Row("84 38", RAX_MMIO + "rbx=0x0100", 0xfe, "rflags=0x46", "r1"),
                new Row("f6 00 01", RAX_MMIO, 0xfe, "rflags=0x46", "r1"),
                new Row("48 f7 00 ff ff ff ff", RAX_MMIO, 0x8000000000000000L, "rflags=0x86", "r8"),
                new Row("66 f7 00 00 80", RAX_MMIO, 0x8001, "rflags=0x86", "r2"),
                new Row("66 f7 00 00 80", RAX_MMIO, 0x0180, "rflags=0x46", "r2"),
                // BT family: CF is the bit (offset modulo the width); ZF and the rest stay.
                new Row("0f ba 20 03", RAX_MMIO + "rflags=0x42", 0x8, "rflags=0x43", "r4"),
                new Row("0f ba 20 23", RAX_MMIO, 0x8, "rflags=0x3", "r4"),
                new Row("0f a3 18", RAX_MMIO + "rbx=4 rflags=0x3", 0x8, "rflags=0x2", "r4"),
                new Row("48 0f a3 18", RAX_MMIO + "rbx=0x41", 0x2, "rflags=0x3", "r8"),
                new Row("0f ba 28 00", RAX_MMIO, 0x8, "", "r4, w4=0x9"),
                new Row("0f ba 30 03", RAX_MMIO, 0x8, "rflags=0x3", "r4, w4=0"),
                new Row("0f ba 38 1f", RAX_MMIO, 0x1, "", "r4, w4=0x80000001"),
                new Row("0f ab 18", RAX_MMIO + "rbx=1", 0x2, "rflags=0x3", "r4, w4=0x2"));
    }

    /** String instructions: RDI/RSI at MMIO or at DATA (RAM, which holds zeros). */
    static Stream<Row> strings() {
        return Stream.of(
                new Row("aa", "rdi=0xfee00030 rax=0x5a", 0, "rdi=0xfee00031", "w1=0x5a"),
                new Row("48 ab", "rdi=0xfee00030 rax=0x1122334455667788", 0, "rdi=0xfee00038", "w8=0x1122334455667788"),
                new Row("66 ab", "rdi=0xfee00030 rax=0x1234 rflags=0x402", 0, "rdi=0xfee0002e", "w2=0x1234"),
                // REP: RCX = 0 does nothing; 1 finishes; N does one and stays on the instruction.
                new Row("f3 aa", "rdi=0xfee00030 rcx=0", 0, "", ""),
                new Row("f3 48 ab", "rdi=0xfee00030 rcx=1 rax=7", 0, "rdi=0xfee00038 rcx=0", "w8=7"),
                new Row("f3 ab", "rdi=0xfee00030 rcx=3 rax=7", 0, "rdi=0xfee00034 rcx=2 rip=0x100000", "w4=7"),
                new Row("f3 ab", "rdi=0xfee00030 rcx=3 rax=7 rflags=0x402", 0, "rdi=0xfee0002c rcx=2 rip=0x100000", "w4=7"),
                // 67H: ECX and EDI; their 32-bit updates zero-extend.
                new Row("67 f3 aa", "rdi=0xaaaa0000fee00030 rcx=0xffffffff00000002 rax=1", 0,
                        "rdi=0xfee00031 rcx=1 rip=0x100000", "w1=1"),
                new Row("67 f3 aa", "rdi=0xfee00030 rcx=0xffffffff00000000", 0, "", ""),
                // MOVS: RAM to MMIO, MMIO to RAM, MMIO to MMIO.
                new Row("a4", "rsi=0x300000 rdi=0xfee00030", 0, "rsi=0x300001 rdi=0xfee00031", "w1=0"),
                new Row("48 a5", "rsi=0xfee00030 rdi=0x300000", READ, "rsi=0xfee00038 rdi=0x300008", "r8"),
                new Row("a5", "rsi=0xfee00030 rdi=0xfec00010", 0x12345678, "rsi=0xfee00034 rdi=0xfec00014",
                        "r4, w4=0x12345678@0xfec00010"),
                new Row("f3 66 a5", "rsi=0x300010 rdi=0xfee00030 rcx=2 rflags=0x402", 0,
                        "rsi=0x30000e rdi=0xfee0002e rcx=1 rip=0x100000", "w2=0"));
    }

    static Stream<Row> stack() {
        return Stream.of(
                new Row("ff 30", RAX_MMIO, READ, "rsp=0x1ffff8", "r8"),
                new Row("66 ff 30", RAX_MMIO, READ, "rsp=0x1ffffe", "r2"),
                new Row("8f 00", RAX_MMIO, 0, "rsp=0x200008", "w8=0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"moves", "arithmetic", "strings"})
    void carriesOutTheInstruction(Row row) {
        assertRow(row, CpuStates.longMode());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stack")
    void pushAndPopMoveBetweenTheDeviceAndTheStack(Row row) {
        MmioBench bench = new MmioBench();
        bench.memory.writeLong(MmioBench.STACK, 0x0102030405060708L);
        Registers before = MmioBench.regs(row.before());
        FakeBus bus = new FakeBus(row.read());
        MmioResult result = bench.emulate(row.hex(), before, CpuStates.longMode(), bus);
        assertThat(result).isEqualTo(new MmioResult.Completed(expected(row, before)));
        List<BusOp> ops = bus.ops();
        assertThat(ops).hasSize(1);
        if (row.hex().startsWith("8f")) {
            assertThat(ops.getFirst()).isEqualTo(new BusOp(true, MMIO, 8, 0x0102030405060708L));
        } else {
            int size = row.hex().startsWith("66") ? 2 : 8;
            assertThat(ops.getFirst()).isEqualTo(new BusOp(false, MMIO, size, -1));
            long top = MmioBench.STACK - size;
            assertThat(size == 8 ? bench.memory.readLong(top) : bench.memory.readShort(top) & 0xFFFF)
                    .isEqualTo(READ & GprState.mask(size));
        }
    }

    static Stream<Row> allRows() {
        return Stream.of(moves(), arithmetic(), strings(), stack()).flatMap(s -> s);
    }

    private static void assertRow(Row row, SpecialRegisters sregs) {
        MmioBench bench = new MmioBench();
        Registers before = MmioBench.regs(row.before());
        FakeBus bus = new FakeBus(row.read());

        MmioResult result = bench.emulate(row.hex(), before, sregs, bus);

        assertThat(result).isEqualTo(new MmioResult.Completed(expected(row, before)));
        assertThat(bus.ops()).containsExactlyElementsOf(BusOp.parse(row.bus()));
    }

    static Registers expected(Row row, Registers before) {
        return MmioBench.apply(before.withRip(CODE + Hex.bytes(row.hex()).length), row.after());
    }
}

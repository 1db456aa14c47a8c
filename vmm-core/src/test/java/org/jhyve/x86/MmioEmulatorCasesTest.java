package org.jhyve.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.x86.MmioBench.CODE;
import static org.jhyve.x86.MmioBench.DATA;
import static org.jhyve.x86.MmioBench.MMIO;
import static org.jhyve.x86.MmioBench.STACK;
import static org.jhyve.x86.MmioBench.regs;

import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.x86.MmioBench.BusOp;
import org.jhyve.x86.MmioBench.FakeBus;
import org.jhyve.x86.MmioResult.Completed;
import org.jhyve.x86.MmioResult.Fault;
import org.jhyve.x86.MmioResult.Unsupported;
import org.junit.jupiter.api.Test;

/** MMIO emulation beyond the single-instruction tables: addressing, other modes, faults and refusals. */
class MmioEmulatorCasesTest {
    private final MmioBench bench = new MmioBench();
    private final FakeBus bus = new FakeBus(0x1122_3344_5566_7788L);

    // Addressing.
    @Test
    void ripRelativeCountsFromTheNextInstruction() {
        // The page after the code maps to the MMIO page; the operand is 0x30 into it.
        bench.mapPage(CODE + 0x1000, MMIO);
        long disp = 0x1000 + 0x30 - 6;
        String hex = String.format("89 1d %02x %02x 00 00", disp & 0xff, disp >> 8);

        MmioResult result = bench.emulate(hex, regs("rbx=0xcafe"), CpuStates.longMode(), bus);

        assertThat(result).isEqualTo(new Completed(regs("rbx=0xcafe rip=0x100006")));
        assertThat(bus.ops()).containsExactly(new BusOp(true, MMIO, 4, 0xcafe));
    }

    @Test
    void anOperandThatIsNotAtTheFaultingAddressIsRefused() {
        MmioResult result = bench.emulate("89 18", regs("rax=0xfee00038"), CpuStates.longMode(), bus);

        assertThat(result).isInstanceOf(Unsupported.class);
        assertThat(bus.ops()).isEmpty();
    }

    @Test
    void popWithRspAsBaseAddressesAfterTheIncrement() {
        bench.memory.writeLong(STACK, 0x55aa);
        // pop qword [rsp-8]: RSP is STACK + 8 when the address is formed.
        MmioResult result = bench.emulate("8f 44 24 f8", regs(""), CpuStates.longMode(), bus);

        assertThat(result).isEqualTo(new Completed(regs("rsp=0x200008 rip=0x100004")));
        assertThat(bus.ops()).containsExactly(new BusOp(true, MMIO, 8, 0x55aa));
    }

    @Test
    void movsTakesTheSourceSegmentOverride() {
        SpecialRegisters sregs = CpuStates.withFsBase(CpuStates.longMode(), DATA);
        bench.memory.writeByte(DATA + 0x10, (byte) 0x99);

        MmioResult result = bench.emulate("64 a4", regs("rsi=0x10 rdi=0xfee00030"), sregs, bus);

        assertThat(result).isEqualTo(new Completed(regs("rsi=0x11 rdi=0xfee00031 rip=0x100002")));
        assertThat(bus.ops()).containsExactly(new BusOp(true, MMIO, 1, 0x99));
    }

    @Test
    void movsFromMmioFillsRam() {
        MmioResult result = bench.emulate("48 a5", regs("rsi=0xfee00030 rdi=0x300000"), CpuStates.longMode(), bus);

        assertThat(result).isInstanceOf(Completed.class);
        assertThat(bench.memory.readLong(DATA)).isEqualTo(0x1122_3344_5566_7788L);
    }

    // 32-bit protected mode.
    /** DS based at 0x1000, so the operand offset is MMIO - 0x1000. */
    private final SpecialRegisters protected32 = CpuStates.protected32(0x1000);

    @Test
    void movUsesTheDataSegmentBaseAnd32BitOperands() {
        MmioResult result = bench.emulate("89 18", regs("rax=0xfedff030 rbx=0x11223344aabbccdd"), protected32, bus);

        assertThat(result).isEqualTo(new Completed(regs("rax=0xfedff030 rbx=0x11223344aabbccdd rip=0x100002")));
        assertThat(bus.ops()).containsExactly(new BusOp(true, MMIO, 4, 0xaabbccddL));
    }

    @Test
    void operandSizePrefixSelects16Bits() {
        MmioResult result = bench.emulate("66 8b 18", regs("rax=0xfedff030 rbx=0xffffffff"), protected32, bus);

        assertThat(result).isEqualTo(new Completed(regs("rax=0xfedff030 rbx=0xffff7788 rip=0x100003")));
    }

    @Test
    void moffsIsFourBytes() {
        MmioResult result = bench.emulate("a1 30 f0 df fe", regs(""), protected32, bus);

        assertThat(result).isEqualTo(new Completed(regs("rax=0x55667788 rip=0x100005")));
        assertThat(bus.ops()).containsExactly(new BusOp(false, MMIO, 4, -1));
    }

    @Test
    void repMovsUsesEsiEdiAndEcx() {
        // ES is flat, DS is not: the source is DS:ESI = 0x1000 + 0x2ff000.
        bench.memory.writeInt(DATA, 0x01020304);
        MmioResult result = bench.emulate("f3 a5", regs("rsi=0x2ff000 rdi=0xfee00030 rcx=2"), protected32, bus);

        assertThat(result).isEqualTo(new Completed(regs("rsi=0x2ff004 rdi=0xfee00034 rcx=1")));
        assertThat(bus.ops()).containsExactly(new BusOp(true, MMIO, 4, 0x01020304));
    }

    @Test
    void addSetsFlagsAt32Bits() {
        MmioResult result = bench.emulate("01 18", regs("rax=0xfedff030 rbx=1"), protected32, new FakeBus(0xffffffffL));

        assertThat(result).isEqualTo(new Completed(regs("rax=0xfedff030 rbx=1 rip=0x100002 rflags=0x57")));
    }

    // Faults: nothing touched.
    @Test
    void movsToAnUnmappedPageIsAPageFaultBeforeTheDeviceIsRead() {
        bench.unmapPage(DATA);

        MmioResult result = bench.emulate("a5", regs("rsi=0xfee00030 rdi=0x300000"), CpuStates.longMode(), bus);

        assertThat(result).isEqualTo(new Fault(14, 0b10, DATA));
        assertThat(bus.ops()).isEmpty();
    }

    @Test
    void movsFromAnUnmappedPageIsAReadPageFault() {
        bench.unmapPage(DATA);

        MmioResult result = bench.emulate("a5", regs("rsi=0x300000 rdi=0xfee00030"), CpuStates.longMode(), bus);

        assertThat(result).isEqualTo(new Fault(14, 0, DATA));
        assertThat(bus.ops()).isEmpty();
    }

    @Test
    void pushOntoAnUnmappedStackFaultsWithoutReadingTheDevice() {
        bench.unmapPage(STACK - 8);

        MmioResult result = bench.emulate("ff 30", regs("rax=0xfee00030"), CpuStates.longMode(), bus);

        assertThat(result).isEqualTo(new Fault(14, 0b10, STACK - 8));
        assertThat(bus.ops()).isEmpty();
    }

    @Test
    void popFromAnUnmappedStackFaultsWithoutWritingTheDevice() {
        bench.unmapPage(STACK);

        MmioResult result = bench.emulate("8f 00", regs("rax=0xfee00030"), CpuStates.longMode(), bus);

        assertThat(result).isEqualTo(new Fault(14, 0, STACK));
        assertThat(bus.ops()).isEmpty();
    }

    @Test
    void aNonCanonicalRamSideIsAGeneralProtectionFault() {
        MmioResult result = bench.emulate("48 a5", regs("rsi=0xfee00030 rdi=0x0000800000000000"),
                CpuStates.longMode(), bus);

        assertThat(result).isEqualTo(new Fault(13, 0, 0));
        assertThat(bus.ops()).isEmpty();
    }

    @Test
    void aNonCanonicalStackIsAStackFault() {
        MmioResult result = bench.emulate("ff 30", regs("rax=0xfee00030 rsp=0x0000800000000008"),
                CpuStates.longMode(), bus);

        assertThat(result).isEqualTo(new Fault(12, 0, 0));
    }

    @Test
    void lockOnMovIsInvalidOpcode() {
        MmioResult result = bench.emulate("f0 89 18", regs("rax=0xfee00030"), CpuStates.longMode(), bus);

        assertThat(result).isEqualTo(new Fault(6, -1, 0));
        assertThat(bus.ops()).isEmpty();
    }

    // Refusals.
    @Test
    void anFpuLoadIsUnsupported() {
        Registers before = regs("rax=0xfee00030");

        MmioResult result = bench.emulate("d9 00", before, CpuStates.longMode(), bus);

        assertThat(result).isInstanceOfSatisfying(Unsupported.class,
                u -> assertThat(u.description()).contains("d9 00").contains("0x100000"));
        assertThat(bus.ops()).isEmpty();
    }

    @Test
    void aRegisterFormIsUnsupported() {
        assertThat(bench.emulate("89 d8", regs(""), CpuStates.longMode(), bus)).isInstanceOf(Unsupported.class);
    }

    @Test
    void codeThatIsNotMappedIsUnsupported() {
        bench.unmapPage(CODE);

        assertThat(bench.emulate("89 18", regs("rax=0xfee00030"), CpuStates.longMode(), bus))
                .isInstanceOf(Unsupported.class);
        assertThat(bus.ops()).isEmpty();
    }

    @Test
    void anAccessCrossingFromRamIntoMmioIsUnsupported() {
        // The last 4 bytes of the page before the MMIO page are RAM here, the next 4 are the device.
        bench.mapPage(DATA, DATA).mapPage(DATA + 0x1000, MMIO);
        MmioResult result = bench.emulate("48 a5", regs("rsi=0x300ffc rdi=0xfee00030"), CpuStates.longMode(), bus);

        assertThat(result).isInstanceOf(Unsupported.class);
        assertThat(bus.ops()).isEmpty();
    }
}

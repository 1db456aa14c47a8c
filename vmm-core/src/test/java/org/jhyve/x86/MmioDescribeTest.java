package org.jhyve.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.x86.MmioBench.MMIO;
import static org.jhyve.x86.MmioBench.STACK;
import static org.jhyve.x86.MmioBench.regs;

import java.util.List;
import java.util.OptionalLong;
import org.jhyve.hv.Registers;
import org.jhyve.x86.MmioBench.BusOp;
import org.jhyve.x86.MmioBench.FakeBus;
import org.jhyve.x86.MmioDescription.Access;
import org.jhyve.x86.MmioDescription.Direction;
import org.jhyve.x86.MmioDescription.NoAccess;
import org.jhyve.x86.MmioInstructionEmulatorTest.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** describe(): the access KVM would report, worked out without the bus and without writing anything. */
class MmioDescribeTest {
    private final MmioBench bench = new MmioBench();

    /** Whatever the table rows do on the bus first at MMIO, describe reports, before any bus exists. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.jhyve.x86.MmioInstructionEmulatorTest#allRows")
    void agreesWithWhatEmulationDoesOnTheBus(Row row) {
        Registers before = regs(row.before());
        MmioDescription description = bench.describe(row.hex(), before, CpuStates.longMode());

        FakeBus bus = new FakeBus(row.read());
        new MmioBench().emulate(row.hex(), before, CpuStates.longMode(), bus);
        List<BusOp> atMmio = bus.ops().stream().filter(op -> op.gpa() == MMIO).toList();
        if (atMmio.isEmpty()) {
            assertThat(description).isInstanceOf(NoAccess.class);
            return;
        }
        BusOp first = atMmio.getFirst();
        Direction direction = first.write() ? Direction.WRITE
                : atMmio.size() > 1 ? Direction.READ_MODIFY_WRITE : Direction.READ;
        OptionalLong value = first.write() ? OptionalLong.of(first.value()) : OptionalLong.empty();
        assertThat(description).isEqualTo(new Access(MMIO, first.size(), direction, value));
    }

    @Test
    void popReportsTheValueFromTheStackAndLeavesRamAlone() {
        bench.memory.writeLong(STACK, 0x0bad_cafeL);

        MmioDescription description = bench.describe("8f 00", regs("rax=0xfee00030"), CpuStates.longMode());

        assertThat(description).isEqualTo(new Access(MMIO, 8, Direction.WRITE, OptionalLong.of(0x0bad_cafeL)));
        assertThat(bench.memory.readLong(STACK)).isEqualTo(0x0bad_cafeL);
    }

    @Test
    void pushDoesNotWriteTheStack() {
        bench.memory.writeLong(STACK - 8, 0x1234);

        MmioDescription description = bench.describe("ff 30", regs("rax=0xfee00030"), CpuStates.longMode());

        assertThat(description).isEqualTo(new Access(MMIO, 8, Direction.READ, OptionalLong.empty()));
        assertThat(bench.memory.readLong(STACK - 8)).isEqualTo(0x1234);
    }

    @Test
    void movsFromMmioDoesNotWriteTheDestination() {
        bench.memory.writeInt(MmioBench.DATA, 0x77);

        MmioDescription description = bench.describe("a5", regs("rsi=0xfee00030 rdi=0x300000"), CpuStates.longMode());

        assertThat(description).isEqualTo(new Access(MMIO, 4, Direction.READ, OptionalLong.empty()));
        assertThat(bench.memory.readInt(MmioBench.DATA)).isEqualTo(0x77);
    }

    @Test
    void aFaultingInstructionMakesNoAccess() {
        bench.unmapPage(STACK);

        assertThat(bench.describe("8f 00", regs("rax=0xfee00030"), CpuStates.longMode())).isInstanceOf(NoAccess.class);
    }
}

package org.jhyve.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.jhyve.hv.FpuState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * xmm0-xmm15 and mxcsr through {@code g}/{@code G}/{@code p}/{@code P}, on {@link FakeTarget} (XMM byte i of the
 * 256 is i, MXCSR 0x1f80). In gdb's numbering xmm0 is 40 (0x28), xmm15 55, mxcsr 56 (0x38).
 */
class SseRegistersTest {
    /** Hex-digit offsets in a g reply: 16 GPRs and rip, eflags, six selectors, st0-7 and eight x87 words come first. */
    private static final int XMM0 = 2 * (17 * 8 + 4 + 6 * 4 + 8 * 10 + 8 * 4);
    private static final int MXCSR = XMM0 + 2 * 16 * 16;

    private FakeTarget target;
    private GdbCommands commands;

    @BeforeEach
    void setUp() {
        target = new FakeTarget();
        commands = new GdbCommands(target, new Stop.Trapped(1, Stop.Cause.NONE), s -> { });
    }

    private String reply(String packet) {
        return ((Reply.Send) commands.handle(packet)).payload();
    }

    /** xmm{@code i} as the fake holds it: bytes 16i..16i+15, least significant first. */
    private static String fakeXmm(int i) {
        StringBuilder s = new StringBuilder();
        for (int b = 16 * i; b < 16 * i + 16; b++) s.append(String.format("%02x", b));
        return s.toString();
    }

    @Test
    void gCarriesXmm0To15LeastSignificantByteFirstThenMxcsrBeforeTheSegmentBases() {
        String g = reply("g");
        assertThat(XMM0).isEqualTo(552);
        assertThat(g).hasSize(2 * (292 + 16 * 16 + 4));
        for (int i = 0; i < 16; i++) assertThat(g.substring(XMM0 + 32 * i, XMM0 + 32 * i + 32)).as("xmm" + i).isEqualTo(fakeXmm(i));
        assertThat(g.substring(XMM0 + 32 * 15, XMM0 + 32 * 16)).isEqualTo("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
        assertThat(g.substring(MXCSR, MXCSR + 8)).isEqualTo("801f0000");
        assertThat(g.substring(MXCSR + 8, MXCSR + 24)).as("fs_base").isEqualTo("0000007000000000");
        assertThat(g.substring(XMM0 - 8, XMM0)).as("fop, the last x87 word").isEqualTo("00000000");
    }

    @Test
    void pReadsXmm5AndMxcsr() {
        assertThat(reply("p2d")).isEqualTo("505152535455565758595a5b5c5d5e5f");
        assertThat(reply("p38")).isEqualTo("801f0000");
        assertThat(reply("p37")).as("xmm15").isEqualTo(fakeXmm(15));
    }

    @Test
    void pWritesXmm3AndMxcsrAndKeepsTheRestOfTheFpuState() {
        FpuState before = target.registers.get(1).fpu();
        assertThat(reply("P2b=0df0fecaefbeadde0011223344556677")).isEqualTo("OK");
        assertThat(reply("P38=a01f0000")).isEqualTo("OK");

        FpuState after = target.registers.get(1).fpu();
        byte[] expectedXmm = before.xmm();
        System.arraycopy(HexFormat.of().parseHex("0df0fecaefbeadde0011223344556677"), 0, expectedXmm, 3 * 16, 16);
        assertThat(after).isEqualTo(new FpuState(before.fpr(), before.fcw(), before.fsw(), before.ftwx(), before.lastOpcode(),
                before.lastIp(), before.lastDp(), expectedXmm, 0x1fa0));
        assertThat(reply("p2b")).isEqualTo("0df0fecaefbeadde0011223344556677");
        assertThat(reply("p38")).isEqualTo("a01f0000");
        assertThat(target.registers.get(1).regs()).as("the GPRs untouched").isEqualTo(FakeTarget.state(1).regs());
        assertThat(target.registers.get(2).fpu()).as("the other thread untouched").isEqualTo(FakeTarget.state(2).fpu());
    }

    @Test
    void pRefusesAnMxcsrWithReservedBitsAndAnXmmValueOfTheWrongSize() {
        assertThat(reply("P38=801f0100")).isEqualTo(GdbCommands.ERROR);
        assertThat(reply("P2b=0df0feca")).isEqualTo(GdbCommands.ERROR);
        assertThat(target.registers.get(1)).isEqualTo(FakeTarget.state(1));
    }

    @Test
    void gWritesTheXmmRegistersAndMxcsrToo() {
        String g = reply("g");
        String xmm15 = "ffeeddccbbaa99887766554433221100";
        String changed = g.substring(0, XMM0 + 32 * 15) + xmm15 + "809f0000" + g.substring(MXCSR + 8);
        assertThat(reply("G" + changed)).isEqualTo("OK");
        FpuState fpu = target.registers.get(1).fpu();
        assertThat(HexFormat.of().formatHex(fpu.xmm(), 15 * 16, 256)).isEqualTo(xmm15);
        assertThat(HexFormat.of().formatHex(fpu.xmm(), 0, 15 * 16)).isEqualTo(g.substring(XMM0, XMM0 + 32 * 15));
        assertThat(fpu.mxcsr()).as("flush to zero").isEqualTo(0x9f80);
        assertThat(fpu.fpr()).isEqualTo(FakeTarget.state(1).fpu().fpr());
        assertThat(reply("g")).isEqualTo(changed);
    }

    @Test
    void gWithTheSameValuesChangesNothing() {
        assertThat(reply("G" + reply("g"))).isEqualTo("OK");
        assertThat(target.registers.get(1)).isEqualTo(FakeTarget.state(1));
    }
}

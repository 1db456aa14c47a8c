package org.jhyve.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GdbCommandsTest {
    private FakeTarget target;
    private GdbCommands commands;
    private final List<Stop> reported = new ArrayList<>();

    @BeforeEach
    void setUp() {
        target = new FakeTarget();
        commands = new GdbCommands(target, new Stop.Trapped(1, Stop.Cause.NONE), reported::add);
    }

    private String reply(String packet) {
        Reply r = commands.handle(packet);
        assertThat(r).as(packet).isInstanceOf(Reply.Send.class);
        return ((Reply.Send) r).payload();
    }

    @Test
    void stopReasonNamesTheThread() {
        assertThat(reply("?")).isEqualTo("T05thread:1;");
    }

    @Test
    void qSupportedAdvertisesPacketSizeAndTargetXmlAndBreakpointKindsWhenGdbKnowsThem() {
        assertThat(reply("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386"))
                .isEqualTo("PacketSize=4000;qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+");
        assertThat(new GdbCommands(target, new Stop.Trapped(1, Stop.Cause.NONE), s -> { }).handle("qSupported"))
                .isEqualTo(new Reply.Send("PacketSize=4000;qXfer:features:read+;QStartNoAckMode+"));
    }

    @Test
    void targetXmlComesInPiecesAndNamesTheArchitectureAndEveryRegister() {
        String first = reply("qXfer:features:read:target.xml:0,40");
        assertThat(first).startsWith("m<?xml").hasSize(0x41);
        StringBuilder xml = new StringBuilder();
        String piece;
        int offset = 0;
        do {
            piece = reply("qXfer:features:read:target.xml:" + Integer.toHexString(offset) + ",100");
            xml.append(piece.substring(1));
            offset += piece.length() - 1;
        } while (piece.startsWith("m"));
        assertThat(xml.toString()).isEqualTo(TargetDescription.XML)
                .contains("<architecture>i386:x86-64</architecture>", "org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.segments",
                        "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\"/>",
                        "<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\" regnum=\"40\"/>",
                        "<reg name=\"gs_base\" bitsize=\"64\" type=\"int\" regnum=\"58\"/>");
        assertThat(reply("qXfer:features:read:target.xml:ffff,100")).isEqualTo("l");
        assertThat(reply("qXfer:features:read:other.xml:0,100")).isEqualTo("E00");
    }

    @Test
    void gSendsTheRegistersInGdbsOrder() {
        String g = reply("g");
        assertThat(g).hasSize(X86Registers.TOTAL_BYTES * 2).hasSize(552 * 2);
        assertThat(g.substring(0, 16)).isEqualTo("0100000000000000");                  // rax
        assertThat(g.substring(16, 32)).isEqualTo("4444333322221111");                 // rbx, little-endian
        assertThat(g.substring(6 * 16, 7 * 16)).isEqualTo("0090000000000000");         // rbp before
        assertThat(g.substring(7 * 16, 8 * 16)).isEqualTo("f08f000000000000");         // rsp
        assertThat(g.substring(16 * 16, 17 * 16)).isEqualTo("0100100000000000");       // rip 0x100001
        assertThat(g.substring(272, 280)).isEqualTo("46020000");                      // eflags, 4 bytes
        assertThat(g.substring(280, 328)).isEqualTo("10000000" + "18000000" + "18000000" + "18000000" + "00000000" + "18000000");
        assertThat(g.substring(328, 348)).isEqualTo("1200000000000000003f");           // st0, 10 bytes
        assertThat(g.substring(488, 496)).isEqualTo("7f030000");                      // fctrl
        assertThat(g.substring(504, 512)).isEqualTo("fcff0000");                      // ftag: st0 valid, the rest empty
        assertThat(g.substring(552, 584)).isEqualTo("000102030405060708090a0b0c0d0e0f"); // xmm0 (SseRegistersTest: the rest)
        assertThat(g.substring(1064, 1072)).isEqualTo("801f0000");                    // mxcsr
        assertThat(g.substring(1072, 1088)).isEqualTo("0000007000000000");             // fs_base
    }

    @Test
    void pReadsOneRegisterAndHgChoosesTheThread() {
        assertThat(reply("p10")).isEqualTo("0100100000000000");
        assertThat(reply("Hg2")).isEqualTo("OK");
        assertThat(reply("p10")).isEqualTo("0200100000000000");
        assertThat(reply("p39")).isEqualTo("0000007000000000");
        assertThat(reply("p3a")).isEqualTo("0000000000000000");
        assertThat(reply("p3b")).isEqualTo(GdbCommands.ERROR);
        assertThat(reply("Hg3")).isEqualTo(GdbCommands.ERROR);
    }

    @Test
    void GWritesTheWritableRegistersAndKeepsTheRest() {
        String g = reply("g");
        String changed = "efbeadde00000000" + g.substring(16, 256) + "0000200000000000" + "02010000" + g.substring(280, 1072)
                + "0000008000000000" + g.substring(1088);
        assertThat(reply("G" + changed)).isEqualTo("OK");
        CpuState s = target.registers.get(1);
        assertThat(s.regs().rax()).isEqualTo(0xdeadbeefL);
        assertThat(s.regs().rip()).isEqualTo(0x200000);
        assertThat(s.regs().rflags()).isEqualTo(0x102);
        assertThat(s.sregs().fs().base()).isEqualTo(0x8000_0000L);
        assertThat(s.regs().rbx()).isEqualTo(0x1111_2222_3333_4444L);
        assertThat(reply("G" + changed.substring(0, 100))).isEqualTo(GdbCommands.ERROR);
    }

    @Test
    void PWritesOneRegisterAndRefusesToChangeAReadOnlyOne() {
        assertThat(reply("P7=0080000000000000")).isEqualTo("OK");
        assertThat(target.registers.get(1).regs().rsp()).isEqualTo(0x8000);
        assertThat(target.registers.get(1).regs().rbp()).isEqualTo(0x9000);
        assertThat(reply("P12=10000000")).as("cs unchanged").isEqualTo("OK");
        assertThat(reply("P12=08000000")).as("cs changed").isEqualTo(GdbCommands.ERROR);
        assertThat(reply("P10=01")).as("wrong size").isEqualTo(GdbCommands.ERROR);
        assertThat(reply("P10")).isEqualTo(GdbCommands.ERROR);
    }

    @Test
    void memoryReadsAreHexAndStopShortAtUnmappedBytes() {
        assertThat(reply("m1000,4")).isEqualTo("00010203");
        assertThat(reply("m10fe,4")).as("the last two bytes of RAM").isEqualTo("feff");
        assertThat(reply("m2000,4")).isEqualTo(GdbCommands.FAULT);
    }

    @Test
    void memoryWritesInHexAndBinary() {
        assertThat(reply("M1000,2:abcd")).isEqualTo("OK");
        assertThat(target.ram[0]).isEqualTo((byte) 0xab);
        assertThat(target.ram[1]).isEqualTo((byte) 0xcd);
        assertThat(reply("X1004,3:}#\u00ff")).isEqualTo("OK");
        assertThat(target.ram[4]).isEqualTo((byte) '}');
        assertThat(target.ram[5]).isEqualTo((byte) '#');
        assertThat(target.ram[6]).isEqualTo((byte) 0xff);
        assertThat(reply("X1000,0:")).as("gdb's probe for X").isEqualTo("OK");
        assertThat(reply("M2000,1:00")).isEqualTo(GdbCommands.FAULT);
        assertThat(reply("M1000,2:ab")).as("length mismatch").isEqualTo(GdbCommands.ERROR);
    }

    @Test
    void breakpointsAreInsertedAndRemoved() {
        assertThat(reply("Z0,100005,1")).isEqualTo("OK");
        assertThat(reply("Z1,10000d,1")).isEqualTo("OK");
        assertThat(reply("Z2,2000,4")).isEqualTo("OK");
        assertThat(reply("Z4,2008,8;X1,0")).as("conditions are ignored").isEqualTo("OK");
        assertThat(target.breakpoints).containsExactly(
                new Breakpoint(Breakpoint.Type.SOFTWARE, 0x100005, 1), new Breakpoint(Breakpoint.Type.HARDWARE, 0x10000d, 1),
                new Breakpoint(Breakpoint.Type.WRITE_WATCH, 0x2000, 4), new Breakpoint(Breakpoint.Type.ACCESS_WATCH, 0x2008, 8));
        assertThat(reply("z0,100005,1")).isEqualTo("OK");
        assertThat(reply("z0,100005,1")).as("not there any more").isEqualTo(GdbCommands.ERROR);
        assertThat(reply("Z3,2000,4")).as("x86 cannot watch reads alone").isEmpty();
        assertThat(reply("Z9,0,1")).isEmpty();
        target.hardwareSlots = 3;
        assertThat(reply("Z1,1,1")).as("every debug register is taken").isEqualTo(GdbCommands.ERROR);
    }

    @Test
    void vContQueryAndResume() {
        assertThat(reply("vCont?")).isEqualTo("vCont;c;C;s;S;t");
        assertThat(commands.handle("vCont;s:1;c")).isEqualTo(new Reply.Resumed());
        assertThat(target.resumes.getLast()).isEqualTo(Map.of(1, ResumeAction.STEP, 2, ResumeAction.CONTINUE));
        commands.handle("vCont;c");
        assertThat(target.resumes.getLast()).isEqualTo(Map.of(1, ResumeAction.CONTINUE, 2, ResumeAction.CONTINUE));
        commands.handle("vCont;s:2");
        assertThat(target.resumes.getLast()).isEqualTo(Map.of(2, ResumeAction.STEP));
        commands.handle("vCont;S05:1;t:2");
        assertThat(target.resumes.getLast()).isEqualTo(Map.of(1, ResumeAction.STEP));
        assertThat(reply("vCont;x")).isEqualTo(GdbCommands.ERROR);
        assertThat(reply("vCont;s:3")).isEqualTo(GdbCommands.ERROR);
        assertThat(reply("vCont;t")).as("resumes nothing").isEqualTo(GdbCommands.ERROR);
    }

    @Test
    void legacyContinueAndStep() {
        assertThat(commands.handle("c")).isEqualTo(new Reply.Resumed());
        assertThat(target.resumes.getLast()).isEqualTo(Map.of(1, ResumeAction.CONTINUE, 2, ResumeAction.CONTINUE));
        assertThat(reply("Hc2")).isEqualTo("OK");
        commands.handle("s");
        assertThat(target.resumes.getLast()).isEqualTo(Map.of(2, ResumeAction.STEP));
        commands.handle("s100000");
        assertThat(target.registers.get(2).regs().rip()).as("s ADDR resumes there").isEqualTo(0x100000);
        commands.handle("C05;200000");
        assertThat(target.registers.get(2).regs().rip()).isEqualTo(0x200000);
    }

    @Test
    void stopRepliesMakeTheStoppedThreadCurrent() {
        reply("qSupported:swbreak+;hwbreak+");
        assertThat(commands.stopped(new Stop.Trapped(2, Stop.Cause.SOFTWARE_BREAKPOINT))).isEqualTo("T05thread:2;swbreak:;");
        assertThat(reply("qC")).isEqualTo("QC2");
        assertThat(reply("p10")).isEqualTo("0200100000000000");
        assertThat(commands.stopped(new Stop.Trapped(1, Stop.Cause.HARDWARE_BREAKPOINT))).isEqualTo("T05thread:1;hwbreak:;");
        assertThat(commands.stopped(new Stop.Trapped(1, Stop.Cause.WRITE_WATCH, 0x2000))).isEqualTo("T05thread:1;watch:2000;");
        assertThat(commands.stopped(new Stop.Interrupted(1))).isEqualTo("T02thread:1;");
        assertThat(commands.stopped(new Stop.Exited(1))).isEqualTo("W01");
        assertThat(reply("?")).isEqualTo("W01");
        assertThat(reply("g")).as("no machine any more").isEqualTo(GdbCommands.ERROR);
    }

    @Test
    void breakpointKindsAreLeftOutForAGdbThatDidNotAskForThem() {
        assertThat(commands.stopped(new Stop.Trapped(1, Stop.Cause.SOFTWARE_BREAKPOINT))).isEqualTo("T05thread:1;");
    }

    @Test
    void threadsAreTheVcpus() {
        assertThat(reply("qfThreadInfo")).isEqualTo("m1,2");
        assertThat(reply("qsThreadInfo")).isEqualTo("l");
        assertThat(reply("qC")).isEqualTo("QC1");
        assertThat(reply("qAttached")).isEqualTo("1");
        assertThat(reply("qThreadExtraInfo,2")).isEqualTo(Hex.text("vCPU 1"));
        assertThat(reply("T2")).isEqualTo("OK");
        assertThat(reply("T3")).isEqualTo(GdbCommands.ERROR);
        assertThat(reply("Hc-1")).isEqualTo("OK");
        assertThat(reply("Hg0")).isEqualTo("OK");
    }

    @Test
    void noAckModeIsAcknowledged() {
        assertThat(commands.acknowledging()).isTrue();
        assertThat(reply("QStartNoAckMode")).isEqualTo("OK");
        assertThat(commands.acknowledging()).isFalse();
    }

    @Test
    void detachAndKillCloseTheSession() {
        assertThat(commands.handle("D")).isEqualTo(new Reply.Close(java.util.Optional.of("OK")));
        assertThat(target.detached).isTrue();
        assertThat(commands.handle("k")).isEqualTo(new Reply.Close(java.util.Optional.empty()));
        assertThat(target.killed).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"m", "mzz,4", "m1000", "M1000,2", "M1000,1:zz", "Z0,1", "Z0,x,1", "p", "pzz", "H", "Hx1", "qXfer:features:read:target.xml:0",
            "qThreadExtraInfo,9", "T", "Gabc", "c12345678901234567890"})
    void malformedPacketsGetAnErrorReply(String packet) {
        assertThat(reply(packet)).isEqualTo(GdbCommands.ERROR);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vMustReplyEmpty", "qTStatus", "qOffsets", "Qbogus", "!", "x1000,4", "vFile:setfs:0", "qRcmd,68656c70"})
    void unknownPacketsGetTheEmptyReply(String packet) {
        assertThat(reply(packet)).isEmpty();
    }
}

package org.jhyve.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.x86.CpuMode.LONG_64;
import static org.jhyve.x86.CpuMode.PROTECTED_32;
import static org.jhyve.x86.CpuMode.REAL;
import static org.jhyve.x86.Hex.bytes;

import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InstructionDecoderTest {
    private final InstructionDecoder decoder = new InstructionDecoder();

    private Instruction decode(String hex, CpuMode mode) throws DecodeException {
        return decoder.decode(bytes(hex), mode);
    }

    private MemoryOperand memory(Instruction insn) {
        return insn.memoryOperand().orElseThrow(() -> new AssertionError(insn + " has no memory operand"));
    }

    @Nested
    class SixtyFourBitMode {
        @Test
        void movRaxFromRspPlus8() throws DecodeException {
            Instruction insn = decode("48 8b 44 24 08", LONG_64);

            assertThat(insn.length()).isEqualTo(5);
            assertThat(insn.map()).isEqualTo(OpcodeMap.PRIMARY);
            assertThat(insn.opcode()).isEqualTo(0x8b);
            assertThat(insn.prefixes().rex()).isEqualTo(0x48);
            assertThat(insn.modRm()).contains(new ModRm(1, 0, 4));
            assertThat(memory(insn)).isEqualTo(new MemoryOperand(Optional.of(GeneralRegister.RSP), Optional.empty(), 1,
                    8, 1, false, SegmentRegister.SS, 64));
            assertThat(insn.immediates()).isEmpty();
            assertThat(insn.operandSize()).isEqualTo(64);
            assertThat(insn.addressSize()).isEqualTo(64);
        }

        @Test
        void ldmxcsrWithNegativeDisplacement() throws DecodeException {
            Instruction insn = decode("0f ae 54 24 fc", LONG_64);

            assertThat(insn.length()).isEqualTo(5);
            assertThat(insn.map()).isEqualTo(OpcodeMap.MAP_0F);
            assertThat(insn.opcode()).isEqualTo(0xae);
            assertThat(insn.modRm()).contains(new ModRm(1, 2, 4));
            assertThat(insn.mandatoryPrefix()).isEqualTo(MandatoryPrefix.NONE);
            assertThat(memory(insn).base()).contains(GeneralRegister.RSP);
            assertThat(memory(insn).displacement()).isEqualTo(-4);
            assertThat(insn.opcodeText()).isEqualTo("0f ae /2");
        }

        @Test
        void operandSizePrefixOnLdmxcsrIsKeptAsTheMandatoryPrefix() throws DecodeException {
            // 66 0F AE /2 is not LDMXCSR (which is "NP": #UD with 66); the decoder reports the prefix and the
            // length, and leaves the verdict to the executor.
            Instruction insn = decode("66 0f ae 14 24", LONG_64);

            assertThat(insn.length()).isEqualTo(5);
            assertThat(insn.mandatoryPrefix()).isEqualTo(MandatoryPrefix.OPSIZE_66);
            assertThat(insn.modRm()).contains(new ModRm(0, 2, 4));
            assertThat(memory(insn).base()).contains(GeneralRegister.RSP);
            assertThat(insn.opcodeText()).isEqualTo("66 0f ae /2");
        }

        @Test
        void ripRelativeLdmxcsr() throws DecodeException {
            Instruction insn = decode("0f ae 15 10 00 00 00", LONG_64);

            assertThat(insn.length()).isEqualTo(7);
            assertThat(memory(insn)).isEqualTo(new MemoryOperand(Optional.empty(), Optional.empty(), 1, 0x10, 4, true,
                    SegmentRegister.DS, 64));
        }

        @Test
        void ripRelativeDestinationWithImmediateAfterIt() throws DecodeException {
            Instruction insn = decode("c7 05 10 00 00 00 78 56 34 12", LONG_64); // mov dword [rip+0x10], 0x12345678

            assertThat(insn.length()).isEqualTo(10);
            assertThat(memory(insn).ripRelative()).isTrue();
            assertThat(insn.immediates()).containsExactly(new Immediate(0x12345678, 4));
        }

        @Test
        void repMovsq() throws DecodeException {
            Instruction insn = decode("f3 48 a5", LONG_64);

            assertThat(insn.length()).isEqualTo(3);
            assertThat(insn.prefixes().repeat()).isEqualTo(RepeatPrefix.REP);
            assertThat(insn.prefixes().rexW()).isTrue();
            assertThat(insn.modRm()).isEmpty();
            assertThat(insn.operandSize()).isEqualTo(64);
        }

        @Test
        void callRel32IsSignExtendedAndForcedTo64Bit() throws DecodeException {
            Instruction insn = decode("e8 fb ff ff ff", LONG_64);

            assertThat(insn.length()).isEqualTo(5);
            assertThat(insn.immediates()).containsExactly(new Immediate(-5, 4));
            assertThat(insn.immediates().getFirst().unsignedValue()).isEqualTo(0xfffffffbL);
            assertThat(insn.operandSize()).isEqualTo(64);
        }

        @Test
        void operandSizePrefixDoesNotShortenANearCall() throws DecodeException {
            // f64: Intel ignores 66H on near branches in 64-bit mode, so the offset stays rel32.
            assertThat(decode("66 e8 00 00 00 00", LONG_64).length()).isEqualTo(6);
        }

        @Test
        void addressSizePrefixSelects32BitAddressing() throws DecodeException {
            Instruction insn = decode("67 8b 00", LONG_64); // mov eax, [eax]

            assertThat(insn.length()).isEqualTo(3);
            assertThat(insn.addressSize()).isEqualTo(32);
            assertThat(insn.operandSize()).isEqualTo(32);
            assertThat(memory(insn).base()).contains(GeneralRegister.RAX);
            assertThat(memory(insn).addressSize()).isEqualTo(32);
        }

        @Test
        void movImm64() throws DecodeException {
            Instruction insn = decode("48 b8 88 77 66 55 44 33 22 11", LONG_64);

            assertThat(insn.length()).isEqualTo(10);
            assertThat(insn.immediates()).containsExactly(new Immediate(0x1122334455667788L, 8));
        }

        @Test
        void sibWithRexXMakesR12AnIndexAndBase101WithMod00HasNoBase() throws DecodeException {
            Instruction insn = decode("4b 8b 04 25 00 10 00 00", LONG_64); // mov rax, [r12*1 + 0x1000]

            assertThat(insn.length()).isEqualTo(8);
            assertThat(memory(insn).base()).isEmpty();
            assertThat(memory(insn).index()).contains(GeneralRegister.R12);
            assertThat(memory(insn).displacement()).isEqualTo(0x1000);
            assertThat(memory(insn).ripRelative()).isFalse();
        }

        @Test
        void sibIndex100WithoutRexXMeansNoIndex() throws DecodeException {
            Instruction insn = decode("48 8b 04 20", LONG_64); // mov rax, [rax]

            assertThat(insn.length()).isEqualTo(4);
            assertThat(memory(insn).base()).contains(GeneralRegister.RAX);
            assertThat(memory(insn).index()).isEmpty();
        }

        @Test
        void scaledIndexWithExtendedBase() throws DecodeException {
            Instruction insn = decode("49 8b 44 cd 10", LONG_64); // mov rax, [r13 + rcx*8 + 0x10]

            assertThat(memory(insn).base()).contains(GeneralRegister.R13);
            assertThat(memory(insn).index()).contains(GeneralRegister.RCX);
            assertThat(memory(insn).scale()).isEqualTo(8);
            assertThat(memory(insn).displacement()).isEqualTo(0x10);
            assertThat(memory(insn).segment()).isEqualTo(SegmentRegister.DS);
        }

        @Test
        void fsOverride() throws DecodeException {
            Instruction insn = decode("64 48 8b 04 25 28 00 00 00", LONG_64); // mov rax, fs:[0x28]

            assertThat(insn.length()).isEqualTo(9);
            assertThat(insn.prefixes().segmentOverride()).contains(SegmentRegister.FS);
            assertThat(memory(insn).segment()).isEqualTo(SegmentRegister.FS);
        }

        @Test
        void aRexFollowedByALegacyPrefixIsIgnored() throws DecodeException {
            Instruction insn = decode("48 66 8b 00", LONG_64);

            assertThat(insn.prefixes().hasRex()).isFalse();
            assertThat(insn.operandSize()).isEqualTo(16);
        }

        @Test
        void pushImmediateDefaultsTo64BitAndShrinksWith66() throws DecodeException {
            Instruction push = decode("68 78 56 34 12", LONG_64);
            Instruction push16 = decode("66 68 34 12", LONG_64);

            assertThat(push.length()).isEqualTo(5);
            assertThat(push.operandSize()).isEqualTo(64);
            assertThat(push16.length()).isEqualTo(4);
            assertThat(push16.operandSize()).isEqualTo(16);
        }

        @ParameterizedTest(name = "{0} has operand size {1}")
        @CsvSource({"ff d0, 64", "66 ff d0, 64", "ff 30, 64", "66 ff 30, 16", "ff c0, 32", "48 ff c0, 64"})
        void groupFiveOperandSizeDependsOnTheOpcodeExtension(String hex, int operandSize) throws DecodeException {
            assertThat(decode(hex, LONG_64).operandSize()).isEqualTo(operandSize);
        }

        @Test
        void moffsIsAddressSized() throws DecodeException {
            assertThat(decode("a1 88 77 66 55 44 33 22 11", LONG_64).immediates())
                    .containsExactly(new Immediate(0x1122334455667788L, 8));
            assertThat(decode("67 a1 44 33 22 11", LONG_64).length()).isEqualTo(6);
        }

        @ParameterizedTest(name = "{0} is invalid in 64-bit mode")
        @CsvSource({"06", "1f", "27", "60", "9a 00 00 00 00 08 00", "ce", "d4 0a", "ea 00 00 00 00 08 00"})
        void legacyOnlyOpcodesAreInvalid(String hex) {
            assertThatThrownBy(() -> decode(hex, LONG_64))
                    .isInstanceOfSatisfying(DecodeException.class,
                            e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.INVALID))
                    .hasMessageContaining("invalid in 64-bit mode");
        }

        @Test
        void popWithModRm() throws DecodeException {
            Instruction insn = decode("8f c0", LONG_64);

            assertThat(insn.length()).isEqualTo(2);
            assertThat(insn.operandSize()).isEqualTo(64);
        }
    }

    @Nested
    class VexEncoding {
        @Test
        void twoByteVexStmxcsr() throws DecodeException {
            Instruction insn = decode("c5 f8 ae 5c 24 04", LONG_64);

            assertThat(insn.length()).isEqualTo(6);
            assertThat(insn.vex()).contains(new Vex(2, OpcodeMap.MAP_0F, false, false, false, false, 0, false,
                    MandatoryPrefix.NONE));
            assertThat(insn.map()).isEqualTo(OpcodeMap.MAP_0F);
            assertThat(insn.opcode()).isEqualTo(0xae);
            assertThat(insn.modRm()).contains(new ModRm(1, 3, 4));
            assertThat(memory(insn).displacement()).isEqualTo(4);
            assertThat(insn.opcodeText()).isEqualTo("vex 0f ae /3");
        }

        @Test
        void threeByteVexSelectsMapAndWidth() throws DecodeException {
            Instruction insn = decode("c4 e2 f9 f7 c1", LONG_64); // shlx rax, rcx, rax

            assertThat(insn.length()).isEqualTo(5);
            assertThat(insn.map()).isEqualTo(OpcodeMap.MAP_0F38);
            assertThat(insn.vex().orElseThrow().w()).isTrue();
            assertThat(insn.vex().orElseThrow().prefix()).isEqualTo(MandatoryPrefix.OPSIZE_66);
            assertThat(insn.mandatoryPrefix()).isEqualTo(MandatoryPrefix.OPSIZE_66);
            assertThat(insn.operandSize()).isEqualTo(64);
        }

        @Test
        void threeByteVexWithInvertedExtensionBits() throws DecodeException {
            Instruction insn = decode("c4 41 78 28 04 24", LONG_64); // vmovaps xmm8, [r12]

            Vex vex = insn.vex().orElseThrow();
            assertThat(vex.r()).isTrue();
            assertThat(vex.x()).isFalse();
            assertThat(vex.b()).isTrue();
            assertThat(insn.regField()).isEqualTo(8);
            assertThat(memory(insn).base()).contains(GeneralRegister.R12);
        }

        @Test
        void vexMap0f3aHasAnImmediate() throws DecodeException {
            Instruction insn = decode("c4 e3 79 0f c1 08", LONG_64); // vpalignr xmm0, xmm0, xmm1, 8

            assertThat(insn.length()).isEqualTo(6);
            assertThat(insn.immediates()).containsExactly(new Immediate(8, 1));
        }

        @Test
        void vzeroupperHasNoModRm() throws DecodeException {
            assertThat(decode("c5 f8 77", LONG_64).length()).isEqualTo(3);
        }

        @Test
        void opcodesWithoutVexFormAreInvalid() {
            assertThatThrownBy(() -> decode("c5 f8 a2", LONG_64)).hasMessageContaining("has no VEX form");
        }

        @Test
        void vexAfterALegacySsePrefixIsInvalid() {
            assertThatThrownBy(() -> decode("66 c5 f8 ae 18", LONG_64))
                    .isInstanceOfSatisfying(DecodeException.class,
                            e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.INVALID));
        }

        @Test
        void reservedVexMapIsInvalid() {
            assertThatThrownBy(() -> decode("c4 e4 78 ae 18", LONG_64)).hasMessageContaining("reserved VEX opcode map 4");
        }

        @Test
        void c4WithAMemoryModRmIsLesOutside64BitMode() throws DecodeException {
            Instruction insn = decode("c4 06", PROTECTED_32); // les eax, [esi]

            assertThat(insn.vex()).isEmpty();
            assertThat(insn.length()).isEqualTo(2);
            assertThat(memory(insn).base()).contains(GeneralRegister.RSI);
        }

        @Test
        void c5WithRegisterBitsIsVexIn32BitMode() throws DecodeException {
            Instruction insn = decode("c5 f8 ae 18", PROTECTED_32); // vstmxcsr [eax]

            assertThat(insn.vex()).isPresent();
            assertThat(insn.length()).isEqualTo(4);
        }

        @Test
        void evexAndXopAreReportedAsUnsupported() {
            assertThatThrownBy(() -> decode("62 f1 7c 48 28 c1", LONG_64))
                    .isInstanceOfSatisfying(DecodeException.class,
                            e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.UNSUPPORTED))
                    .hasMessageContaining("EVEX");
            assertThatThrownBy(() -> decode("8f e9 78 c1 c0", LONG_64)).hasMessageContaining("XOP");
        }
    }

    @Nested
    class LegacyModes {
        @Test
        void sixteenBitMovFromBpMinus2UsesSs() throws DecodeException {
            Instruction insn = decode("8b 46 fe", REAL);

            assertThat(insn.length()).isEqualTo(3);
            assertThat(insn.operandSize()).isEqualTo(16);
            assertThat(insn.addressSize()).isEqualTo(16);
            assertThat(memory(insn)).isEqualTo(new MemoryOperand(Optional.of(GeneralRegister.RBP), Optional.empty(), 1,
                    -2, 1, false, SegmentRegister.SS, 16));
        }

        @Test
        void sixteenBitBxPlusSi() throws DecodeException {
            Instruction insn = decode("8b 00", REAL);

            assertThat(memory(insn).base()).contains(GeneralRegister.RBX);
            assertThat(memory(insn).index()).contains(GeneralRegister.RSI);
            assertThat(memory(insn).segment()).isEqualTo(SegmentRegister.DS);
        }

        @Test
        void sixteenBitDirectAddressIsADisp16() throws DecodeException {
            Instruction insn = decode("8b 0e 34 12", REAL); // mov cx, [0x1234]

            assertThat(insn.length()).isEqualTo(4);
            assertThat(memory(insn).base()).isEmpty();
            assertThat(memory(insn).displacement()).isEqualTo(0x1234);
            assertThat(memory(insn).displacementSize()).isEqualTo(2);
            assertThat(memory(insn).segment()).isEqualTo(SegmentRegister.DS);
        }

        @Test
        void sixteenBitDisp16IsSignExtended() throws DecodeException {
            assertThat(memory(decode("8b 87 00 80", REAL)).displacement()).isEqualTo(-0x8000);
        }

        @Test
        void prefixesSwitchSizesIn16BitCode() throws DecodeException {
            Instruction movEaxImm32 = decode("66 b8 78 56 34 12", REAL);
            Instruction sib = decode("67 8b 04 24", REAL); // mov ax, [esp]

            assertThat(movEaxImm32.length()).isEqualTo(6);
            assertThat(movEaxImm32.operandSize()).isEqualTo(32);
            assertThat(sib.length()).isEqualTo(4);
            assertThat(sib.addressSize()).isEqualTo(32);
            assertThat(memory(sib).base()).contains(GeneralRegister.RSP);
        }

        @Test
        void thirtyTwoBitDisp32IsAbsoluteNotRipRelative() throws DecodeException {
            Instruction insn = decode("8b 05 78 56 34 12", PROTECTED_32);

            assertThat(insn.length()).isEqualTo(6);
            assertThat(memory(insn).ripRelative()).isFalse();
            assertThat(memory(insn).base()).isEmpty();
            assertThat(memory(insn).displacement()).isEqualTo(0x12345678);
        }

        @Test
        void thirtyTwoBitSibWithoutBase() throws DecodeException {
            Instruction insn = decode("8b 04 8d 00 10 00 00", PROTECTED_32); // mov eax, [ecx*4 + 0x1000]

            assertThat(insn.length()).isEqualTo(7);
            assertThat(memory(insn).index()).contains(GeneralRegister.RCX);
            assertThat(memory(insn).scale()).isEqualTo(4);
            assertThat(memory(insn).base()).isEmpty();
        }

        @Test
        void rexBytesAreIncAndDecOutside64BitMode() throws DecodeException {
            Instruction insn = decode("48 8b 00", PROTECTED_32); // dec eax; (mov follows)

            assertThat(insn.length()).isEqualTo(1);
            assertThat(insn.opcode()).isEqualTo(0x48);
            assertThat(insn.prefixes().hasRex()).isFalse();
        }

        @Test
        void farJumpCarriesOffsetAndSelector() throws DecodeException {
            Instruction insn = decode("ea 78 56 34 12 08 00", PROTECTED_32);

            assertThat(insn.length()).isEqualTo(7);
            assertThat(insn.immediates()).containsExactly(new Immediate(0x12345678, 4), new Immediate(8, 2));
        }

        @Test
        void nearJccTakesRel16With66() throws DecodeException {
            assertThat(decode("0f 84 00 01 00 00", PROTECTED_32).length()).isEqualTo(6);
            assertThat(decode("66 0f 84 00 01", PROTECTED_32).length()).isEqualTo(5);
        }

        @Test
        void pushEsIsValidIn32BitMode() throws DecodeException {
            assertThat(decode("06", PROTECTED_32).length()).isEqualTo(1);
        }
    }

    @Nested
    class OpcodeTables {
        @ParameterizedTest(name = "{0} is {1} bytes")
        @CsvSource({
            "cc, 1", "9b, 1", "0f 0b, 2", "f4, 1",
            "f6 c0 01, 3", "f6 d0, 2", "f7 c0 78 56 34 12, 6", "66 f7 c0 34 12, 5", "f7 d8, 2",
            "c8 10 00 01, 4", "c2 08 00, 3", "cd 80, 2",
            "0f 22 d8, 3", "0f 20 05, 3",
            "66 0f 38 00 c1, 5", "66 0f 3a 0f c1 08, 6", "0f 0f c1 b4, 4",
            "f3 0f b8 c1, 4", "0f 01 ca, 3", "0f ae e8, 3", "48 0f c7 0e, 4", "0f 1f 44 00 00, 5",
            "f2 0f 78 c1 02 03, 6", "0f 78 c1, 3",
            "d9 7c 24 fc, 4", "cc 90 90, 1"
        })
        void lengths(String hex, int length) throws DecodeException {
            assertThat(decode(hex, LONG_64).length()).isEqualTo(length);
        }

        @Test
        void enterHasTwoImmediates() throws DecodeException {
            assertThat(decode("c8 10 00 01", LONG_64).immediates())
                    .containsExactly(new Immediate(0x10, 2), new Immediate(1, 1));
        }

        @Test
        void undefinedOpcodesAreInvalid() {
            assertThatThrownBy(() -> decode("0f 04", LONG_64))
                    .isInstanceOfSatisfying(DecodeException.class,
                            e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.INVALID))
                    .hasMessageContaining("undefined opcode 0f 04");
            assertThatThrownBy(() -> decode("d6", PROTECTED_32)).hasMessageContaining("undefined opcode d6");
        }
    }

    @Nested
    class Limits {
        @Test
        void fifteenBytesIsTheLongestAllowed() throws DecodeException {
            Instruction insn = decode("66 ".repeat(14) + "90", LONG_64);

            assertThat(insn.length()).isEqualTo(15);
        }

        @Test
        void sixteenBytesOfPrefixAndOpcodeIsTooLong() {
            assertThatThrownBy(() -> decode("66 ".repeat(15) + "90", LONG_64))
                    .isInstanceOfSatisfying(DecodeException.class, e -> {
                        assertThat(e.reason()).isEqualTo(DecodeException.Reason.TOO_LONG);
                        assertThat(e.bytes()).hasSize(15);
                    })
                    .hasMessageContaining("66 66 66")
                    .hasMessageContaining("longer than 15 bytes");
        }

        @Test
        void aLongImmediateThatPassesByte15IsTooLong() {
            // 7 prefixes + REX + B8 + imm64 = 17 bytes.
            assertThatThrownBy(() -> decode("66 66 66 66 66 66 66 48 b8 00 00 00 00 00 00 00 00", LONG_64))
                    .isInstanceOfSatisfying(DecodeException.class,
                            e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.TOO_LONG));
        }

        @ParameterizedTest(name = "{0} is truncated")
        @CsvSource({"48 8b 44 24", "0f", "0f ae", "e8 00 00", "c5 f8", "66"})
        void truncatedInputIsReportedWithItsBytes(String hex) {
            assertThatThrownBy(() -> decode(hex, LONG_64))
                    .isInstanceOfSatisfying(DecodeException.class,
                            e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.TRUNCATED))
                    .hasMessageContaining(hex)
                    .hasMessageContaining("64-bit mode");
        }

        @Test
        void emptyInputIsTruncated() {
            assertThatThrownBy(() -> decoder.decode(new byte[0], LONG_64))
                    .isInstanceOfSatisfying(DecodeException.class,
                            e -> assertThat(e.reason()).isEqualTo(DecodeException.Reason.TRUNCATED));
        }
    }

    @Test
    void instructionBytesAreExactlyTheInstruction() throws DecodeException {
        Instruction insn = decode("0f ae 54 24 fc 90 90", LONG_64);

        assertThat(insn.bytes()).containsExactly(bytes("0f ae 54 24 fc"));
        assertThat(insn.hex()).isEqualTo("0f ae 54 24 fc");
    }
}

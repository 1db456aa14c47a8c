package org.jhyve.x86;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import org.jhyve.fuzz.Findings;

/**
 * Fuzz target for the x86 instruction decoder (docs/reliability.md): any bytes in any mode.
 *
 * <p>Documented exception: {@link DecodeException}. Asserted: a decoded instruction is 1 to 15 bytes, a prefix
 * of the input, in the mode asked for.
 */
class X86DecodeFuzzTest {
    private static final InstructionDecoder DECODER = new InstructionDecoder();

    @FuzzTest(maxDuration = "10s")
    void decode(FuzzedDataProvider data) {
        CpuMode mode = data.pickValue(CpuMode.values());
        byte[] code = data.consumeRemainingAsBytes();
        Instruction insn;
        try {
            insn = DECODER.decode(code, mode);
        } catch (DecodeException e) {
            return;
        }
        Findings findings = new Findings("x86-decode");
        findings.check(insn.length() >= 1 && insn.length() <= InstructionDecoder.MAX_LENGTH && insn.length() <= code.length,
                "decoded length " + insn.length() + " of " + code.length + " input bytes");
        findings.check(Arrays.equals(insn.bytes(), Arrays.copyOf(code, insn.length())), "instruction bytes are not the input's first bytes");
        findings.check(insn.mode() == mode, "decoded in " + insn.mode() + ", asked for " + mode);
        findings.throwIfAny();
    }
}

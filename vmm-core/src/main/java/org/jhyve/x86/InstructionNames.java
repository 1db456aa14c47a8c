package org.jhyve.x86;

import static java.util.Map.entry;

import java.util.Map;

/**
 * Mnemonics for messages about instructions jhyve cannot complete: the ones KVM's emulator is known to
 * reject, system instructions, and a few everyday ones. Not a disassembler; anything else is named by its
 * opcode in SDM notation.
 *
 * <p>Keys are the mandatory prefix, map escape and opcode in hex, then either the whole ModRM byte (register
 * forms with a fixed ModRM, e.g. {@code 0f 01 ca}), or {@code /digit} with {@code m} (memory form) or {@code r}
 * (register form), or a bare {@code /digit}. VEX-encoded keys start with {@code vex}.
 */
final class InstructionNames {
    private static final Map<String, String> NAMES = Map.ofEntries(
            // one-byte map
            entry("cc", "int3"), entry("cd", "int"), entry("ce", "into"), entry("f1", "int1"), entry("9b", "fwait"),
            entry("f4", "hlt"), entry("cf", "iret"), entry("fa", "cli"), entry("fb", "sti"), entry("90", "nop"),
            entry("e4", "in"), entry("e5", "in"), entry("ec", "in"), entry("ed", "in"),
            entry("e6", "out"), entry("e7", "out"), entry("ee", "out"), entry("ef", "out"),
            entry("6c", "insb"), entry("6d", "ins"), entry("6e", "outsb"), entry("6f", "outs"),
            entry("a4", "movsb"), entry("a5", "movs"), entry("aa", "stosb"), entry("ab", "stos"),
            entry("c3", "ret"), entry("e8", "call"), entry("e9", "jmp"), entry("8b", "mov"), entry("89", "mov"),
            // x87
            entry("db e2", "fnclex"), entry("db e3", "fninit"), entry("df e0", "fnstsw ax"),
            entry("df /0m", "fild m16"), entry("db /0m", "fild m32"), entry("df /5m", "fild m64"),
            entry("d9 /5m", "fldcw"), entry("d9 /7m", "fnstcw"), entry("dd /7m", "fnstsw"),
            entry("d9 /4m", "fldenv"), entry("d9 /6m", "fnstenv"), entry("dd /4m", "frstor"), entry("dd /6m", "fnsave"),
            // 0F map: system and miscellaneous
            entry("0f 0b", "ud2"), entry("0f b9", "ud1"), entry("0f ff", "ud0"), entry("0f a2", "cpuid"),
            entry("0f 30", "wrmsr"), entry("0f 32", "rdmsr"), entry("0f 31", "rdtsc"), entry("0f 33", "rdpmc"),
            entry("0f 05", "syscall"), entry("0f 07", "sysret"), entry("0f 34", "sysenter"), entry("0f 35", "sysexit"),
            entry("0f 06", "clts"), entry("0f 08", "invd"), entry("0f 09", "wbinvd"), entry("0f 77", "emms"),
            entry("0f 0d", "prefetchw"), entry("0f 0f", "3dnow!"), entry("0f 1f /0", "nop"),
            entry("0f 20", "mov from crN"), entry("0f 22", "mov to crN"), entry("0f 21", "mov from drN"),
            entry("0f 23", "mov to drN"),
            entry("0f 00 /0", "sldt"), entry("0f 00 /1", "str"), entry("0f 00 /2", "lldt"), entry("0f 00 /3", "ltr"),
            entry("0f 00 /4", "verr"), entry("0f 00 /5", "verw"),
            entry("0f 01 c1", "vmcall"), entry("0f 01 c2", "vmlaunch"), entry("0f 01 c3", "vmresume"),
            entry("0f 01 c4", "vmxoff"), entry("0f 01 d9", "vmmcall"), entry("0f 01 c8", "monitor"),
            entry("0f 01 c9", "mwait"), entry("0f 01 ca", "clac"), entry("0f 01 cb", "stac"),
            entry("0f 01 d0", "xgetbv"), entry("0f 01 d1", "xsetbv"), entry("0f 01 f8", "swapgs"),
            entry("0f 01 f9", "rdtscp"), entry("0f 01 /0m", "sgdt"), entry("0f 01 /1m", "sidt"),
            entry("0f 01 /2m", "lgdt"), entry("0f 01 /3m", "lidt"), entry("0f 01 /4", "smsw"),
            entry("0f 01 /6", "lmsw"), entry("0f 01 /7m", "invlpg"),
            entry("0f 78", "vmread"), entry("0f 79", "vmwrite"),
            entry("f3 0f 1e fa", "endbr64"), entry("f3 0f 1e fb", "endbr32"),
            entry("f3 0f b8", "popcnt"), entry("f3 0f bc", "tzcnt"), entry("f3 0f bd", "lzcnt"),
            entry("0f bc", "bsf"), entry("0f bd", "bsr"),
            // 0F AE (group 15) and 0F C7 (group 9): state save/restore, fences, random numbers
            entry("0f ae /0m", "fxsave"), entry("0f ae /1m", "fxrstor"), entry("0f ae /2m", "ldmxcsr"),
            entry("0f ae /3m", "stmxcsr"), entry("0f ae /4m", "xsave"), entry("0f ae /5m", "xrstor"),
            entry("0f ae /6m", "xsaveopt"), entry("0f ae /7m", "clflush"), entry("0f ae /5r", "lfence"),
            entry("0f ae /6r", "mfence"), entry("0f ae /7r", "sfence"),
            entry("66 0f ae /6m", "clwb"), entry("66 0f ae /7m", "clflushopt"),
            entry("f3 0f ae /0r", "rdfsbase"), entry("f3 0f ae /1r", "rdgsbase"),
            entry("f3 0f ae /2r", "wrfsbase"), entry("f3 0f ae /3r", "wrgsbase"),
            entry("0f c7 /1m", "cmpxchg8b"), entry("0f c7 /3m", "xrstors"), entry("0f c7 /4m", "xsavec"),
            entry("0f c7 /5m", "xsaves"), entry("0f c7 /6r", "rdrand"), entry("0f c7 /7r", "rdseed"),
            entry("f3 0f c7 /7r", "rdpid"), entry("0f c7 /6m", "vmptrld"), entry("0f c7 /7m", "vmptrst"),
            entry("f3 0f c7 /6m", "vmxon"), entry("66 0f c7 /6m", "vmclear"),
            // 0F 38 map
            entry("0f 38 f0", "movbe"), entry("0f 38 f1", "movbe"), entry("f2 0f 38 f0", "crc32"),
            entry("f2 0f 38 f1", "crc32"), entry("66 0f 38 80", "invept"), entry("66 0f 38 81", "invvpid"),
            entry("66 0f 38 82", "invpcid"),
            // VEX
            entry("vex 0f ae /2m", "vldmxcsr"), entry("vex 0f ae /3m", "vstmxcsr"), entry("vex 0f 77", "vzeroupper/vzeroall"));

    private InstructionNames() {}

    /** The mnemonic, or "opcode 0f 38 f6 /0" when this table does not know it. */
    static String describe(Instruction insn) {
        String opcode = (insn.isVexEncoded() ? "vex " : "") + insn.mandatoryPrefix().hex() + insn.map().escapeBytes()
                + String.format("%02x", insn.opcode());
        String name = lookup(insn, opcode);
        if (name == null) return "opcode " + insn.opcodeText();
        // CMPXCHG16B is CMPXCHG8B with REX.W (SDM Vol. 2 "CMPXCHG8B/CMPXCHG16B").
        if (name.equals("cmpxchg8b") && insn.operandSize() == 64) return "cmpxchg16b";
        return name;
    }

    private static String lookup(Instruction insn, String opcode) {
        if (insn.modRm().isPresent()) {
            ModRm modRm = insn.modRm().get();
            String digit = opcode + " /" + modRm.reg();
            boolean registerForm = insn.memoryOperand().isEmpty();
            String[] keys = {
                registerForm ? opcode + String.format(" %02x", modRm.toByte()) : null,
                digit + (registerForm ? "r" : "m"),
                digit,
            };
            for (String key : keys) {
                if (key != null && NAMES.containsKey(key)) return NAMES.get(key);
            }
        }
        return NAMES.get(opcode);
    }
}

package org.jhyve.x86;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-opcode facts for one opcode map, transcribed from the opcode maps of SDM Vol. 2 Appendix A as 16x16
 * grids (row = high nibble, column = low nibble), so each grid can be checked against the SDM table by eye.
 *
 * <p>ModRM grid: {@code m} ModRM follows, {@code r} ModRM follows but always names registers, {@code .} no
 * ModRM, {@code x} undefined opcode, {@code p} prefix or escape byte (consumed before the table is consulted).
 * <br>Immediate grid: {@code .} none, {@code b} Ib, {@code w} Iw, {@code z} Iz, {@code v} Iv, {@code o} moffs,
 * {@code e} ENTER's Iw+Ib, {@code f} far pointer, {@code t} group-3 TEST immediate.
 * <br>64-bit grid: {@code .} normal, {@code i} i64 (invalid), {@code d} d64, {@code f} f64, {@code g} group 5.
 */
final class OpcodeTable {

    /** One-byte opcodes, Table A-2. */
    static final OpcodeTable PRIMARY = new OpcodeTable(OpcodeMap.PRIMARY,
            new String[] {
                "mmmm....mmmm...p", // 00 ADD, OR, PUSH/POP ES/CS, 0F escape
                "mmmm....mmmm....", // 10 ADC, SBB
                "mmmm..p.mmmm..p.", // 20 AND, SUB, ES/CS overrides, DAA/DAS
                "mmmm..p.mmmm..p.", // 30 XOR, CMP, SS/DS overrides, AAA/AAS
                "................", // 40 INC/DEC (REX in 64-bit mode)
                "................", // 50 PUSH/POP r
                "..mmpppp.m.m....", // 60 PUSHA, BOUND, ARPL/MOVSXD, FS/GS/66/67, PUSH Iz, IMUL, INS/OUTS
                "................", // 70 Jcc rel8
                "mmmmmmmmmmmmmmmm", // 80 group 1, TEST, XCHG, MOV, LEA, POP Ev
                "................", // 90 XCHG/NOP, CBW, CWD, CALLF, FWAIT, PUSHF/POPF, SAHF/LAHF
                "................", // A0 MOV moffs, MOVS, CMPS, TEST, STOS, LODS, SCAS
                "................", // B0 MOV r, imm
                "mm..mmmm........", // C0 shifts, RET, LES/LDS (VEX), MOV Ev,Iz, ENTER, LEAVE, RETF, INT3, INT, INTO, IRET
                "mmmm..x.mmmmmmmm", // D0 shifts, AAM/AAD, (D6 undefined), XLAT, x87 escapes
                "................", // E0 LOOP, JrCXZ, IN/OUT, CALL, JMP
                "p.pp..mm......mm", // F0 LOCK, INT1, REPNE/REP, HLT, CMC, group 3, CLC..STD, groups 4/5
            },
            new String[] {
                "....bz......bz..",
                "....bz......bz..",
                "....bz......bz..",
                "....bz......bz..",
                "................",
                "................",
                "........zzbb....",
                "bbbbbbbbbbbbbbbb",
                "bzbb............",
                "..........f.....",
                "oooo....bz......",
                "bbbbbbbbvvvvvvvv",
                "bbw...bze.w..b..",
                "....bb..........",
                "bbbbbbbbzzfb....",
                "......tt........",
            },
            new String[] {
                "......ii......i.",
                "......ii......ii",
                ".......i.......i",
                ".......i.......i",
                "................",
                "dddddddddddddddd",
                "iii.....d.d.....",
                "ffffffffffffffff",
                "..i............d",
                "..........i.dd..",
                "................",
                "................",
                "..ffii..dd....i.",
                "....iii.........",
                "ffff....ffif....",
                "...............g",
            });

    /** Two-byte opcodes after 0FH, Table A-3. */
    static final OpcodeTable MAP_0F = new OpcodeTable(OpcodeMap.MAP_0F,
            new String[] {
                "mmmmx.....x.xm.m", // 00 groups 6/7, LAR, LSL, SYSCALL, CLTS, SYSRET, INVD, WBINVD, UD2, PREFETCHW, 3DNow!
                "mmmmmmmmmmmmmmmm", // 10 SSE moves, hint NOPs, ENDBR
                "rrrrxxxxmmmmmmmm", // 20 MOV CRn/DRn, SSE
                "......x.pxpxxxxx", // 30 WRMSR, RDTSC, RDMSR, RDPMC, SYSENTER, SYSEXIT, GETSEC, 38/3A escapes
                "mmmmmmmmmmmmmmmm", // 40 CMOVcc
                "mmmmmmmmmmmmmmmm", // 50 SSE
                "mmmmmmmmmmmmmmmm", // 60 MMX/SSE2
                "mmmmmmm.mmxxmmmm", // 70 PSHUF, groups 12-14, EMMS/VZEROUPPER, VMREAD/VMWRITE
                "................", // 80 Jcc rel16/32
                "mmmmmmmmmmmmmmmm", // 90 SETcc
                "...mmmxx...mmmmm", // A0 PUSH/POP FS, CPUID, BT, SHLD, PUSH/POP GS, RSM, BTS, SHRD, group 15, IMUL
                "mmmmmmmmmmmmmmmm", // B0 CMPXCHG, LSS, BTR, LFS, LGS, MOVZX, POPCNT, UD1, group 8, BTC, BSF/BSR, MOVSX
                "mmmmmmmm........", // C0 XADD, CMPPS, MOVNTI, PINSRW, PEXTRW, SHUFPS, group 9, BSWAP
                "mmmmmmmmmmmmmmmm", // D0 SSE2
                "mmmmmmmmmmmmmmmm", // E0 SSE2
                "mmmmmmmmmmmmmmmm", // F0 SSE2, UD0
            },
            new String[] {
                "...............b",
                "................",
                "................",
                "................",
                "................",
                "................",
                "................",
                "bbbb............",
                "zzzzzzzzzzzzzzzz",
                "................",
                "....b.......b...",
                "..........b.....",
                "..b.bbb.........",
                "................",
                "................",
                "................",
            },
            new String[] {
                "................",
                "................",
                "................",
                "................",
                "................",
                "................",
                "................",
                "................",
                "ffffffffffffffff",
                "................",
                "dd......dd......",
                "................",
                "................",
                "................",
                "................",
                "................",
            });

    /** Three-byte opcodes after 0F 38H, Table A-4: all take ModRM and no immediate. */
    static final OpcodeTable MAP_0F38 = uniform(OpcodeMap.MAP_0F38, '.');

    /** Three-byte opcodes after 0F 3AH, Table A-5: all take ModRM and an Ib. */
    static final OpcodeTable MAP_0F3A = uniform(OpcodeMap.MAP_0F3A, 'b');

    private final OpcodeMap map;
    private final List<OpcodeInfo> entries;

    private OpcodeTable(OpcodeMap map, String[] modRmGrid, String[] immediateGrid, String[] longModeGrid) {
        this.map = map;
        List<OpcodeInfo> parsed = new ArrayList<>(256);
        for (int opcode = 0; opcode < 256; opcode++) {
            char modRm = cell(modRmGrid, opcode);
            parsed.add(new OpcodeInfo(
                    modRm != 'x' && modRm != 'p',
                    modRm == 'm' || modRm == 'r',
                    modRm == 'r',
                    immediateKind(cell(immediateGrid, opcode)),
                    longModeRule(cell(longModeGrid, opcode))));
        }
        this.entries = List.copyOf(parsed);
    }

    static OpcodeTable of(OpcodeMap map) {
        return switch (map) {
            case PRIMARY -> PRIMARY;
            case MAP_0F -> MAP_0F;
            case MAP_0F38 -> MAP_0F38;
            case MAP_0F3A -> MAP_0F3A;
        };
    }

    OpcodeMap map() { return map; }

    OpcodeInfo get(int opcode) {
        return entries.get(opcode & 0xFF);
    }

    private static OpcodeTable uniform(OpcodeMap map, char immediate) {
        String[] modRm = new String[16];
        String[] imm = new String[16];
        String[] longMode = new String[16];
        for (int row = 0; row < 16; row++) {
            modRm[row] = "m".repeat(16);
            imm[row] = String.valueOf(immediate).repeat(16);
            longMode[row] = ".".repeat(16);
        }
        return new OpcodeTable(map, modRm, imm, longMode);
    }

    private static char cell(String[] grid, int opcode) {
        if (grid.length != 16) throw new IllegalStateException("opcode grid needs 16 rows");
        String row = grid[opcode >> 4];
        if (row.length() != 16) throw new IllegalStateException("opcode grid row " + (opcode >> 4) + " needs 16 cells");
        return row.charAt(opcode & 0xF);
    }

    private static ImmediateKind immediateKind(char c) {
        return switch (c) {
            case '.' -> ImmediateKind.NONE;
            case 'b' -> ImmediateKind.BYTE;
            case 'w' -> ImmediateKind.WORD;
            case 'z' -> ImmediateKind.WORD_OR_DWORD;
            case 'v' -> ImmediateKind.OPERAND_SIZE;
            case 'o' -> ImmediateKind.ADDRESS_SIZE;
            case 'e' -> ImmediateKind.ENTER;
            case 'f' -> ImmediateKind.FAR_POINTER;
            case 't' -> ImmediateKind.GROUP_3_TEST;
            default -> throw new IllegalStateException("unknown immediate code '" + c + "'");
        };
    }

    private static LongModeRule longModeRule(char c) {
        return switch (c) {
            case '.' -> LongModeRule.NORMAL;
            case 'i' -> LongModeRule.INVALID;
            case 'd' -> LongModeRule.DEFAULT_64;
            case 'f' -> LongModeRule.FORCE_64;
            case 'g' -> LongModeRule.GROUP_5;
            default -> throw new IllegalStateException("unknown 64-bit code '" + c + "'");
        };
    }
}

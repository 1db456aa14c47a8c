package org.jhyve.x86;

/**
 * What the decoder needs to know about one opcode to find the instruction's end.
 *
 * @param defined            false for opcodes the architecture leaves undefined (and for prefix bytes,
 *                           which never reach the table)
 * @param hasModRm           a ModRM byte follows the opcode
 * @param modRmRegisterOnly  ModRM.mod is ignored and treated as 11b, so no SIB or displacement follows
 *                           (MOV to/from CRn/DRn, SDM Vol. 2 "MOV—Move to/from Control Registers")
 * @param immediate          the immediate that follows ModRM/SIB/displacement
 * @param longMode           how 64-bit mode treats the opcode
 */
record OpcodeInfo(boolean defined, boolean hasModRm, boolean modRmRegisterOnly, ImmediateKind immediate,
                  LongModeRule longMode) {}

package org.jhyve.x86;

import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;

/** The six segment registers, in their ModRM/Sreg encoding order (SDM Vol. 2 §3.1.1.1, Table 3-1 "Sreg"). */
public enum SegmentRegister {
    ES, CS, SS, DS, FS, GS;

    /** The cached descriptor of this segment register. */
    public Segment of(SpecialRegisters sregs) {
        return switch (this) {
            case ES -> sregs.es();
            case CS -> sregs.cs();
            case SS -> sregs.ss();
            case DS -> sregs.ds();
            case FS -> sregs.fs();
            case GS -> sregs.gs();
        };
    }

    /** The override prefix byte that selects this segment (SDM Vol. 2 §2.1.1, group 2), or null if {@code b} is none. */
    static SegmentRegister ofOverridePrefix(int b) {
        return switch (b) {
            case 0x26 -> ES;
            case 0x2E -> CS;
            case 0x36 -> SS;
            case 0x3E -> DS;
            case 0x64 -> FS;
            case 0x65 -> GS;
            default -> null;
        };
    }
}

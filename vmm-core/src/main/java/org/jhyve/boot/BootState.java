package org.jhyve.boot;

import java.util.List;
import org.jhyve.hv.MsrEntry;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;

/**
 * The boot vCPU's registers when the guest starts, after a loader has put the image in guest memory.
 * {@code description} says what was loaded, for the log (e.g. "ELF64 long mode, entry 0x100000").
 */
public record BootState(Registers registers, SpecialRegisters specialRegisters, List<MsrEntry> msrs, String description) {
    public BootState {
        msrs = List.copyOf(msrs);
    }
}

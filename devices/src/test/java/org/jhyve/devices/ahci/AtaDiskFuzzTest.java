package org.jhyve.devices.ahci;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;

/**
 * Fuzz target for ATA commands (docs/reliability.md): sequences of register H2D FISes with PRD tables in guest
 * RAM through {@link AtaDisk#execute}, as a port worker runs them ({@link AtaFuzzing} gives the input format).
 *
 * <p>Documented exception: {@link DmaFault}. Asserted: every command completes (or faults) with no other
 * exception; the backend sees only ranges inside the 64 KiB disk, no writes when read-only, buffers only in
 * guest RAM; accesses outside guest RAM are refused and become DmaFaults (this memory's refusal is the PRD
 * table's documented check); the step budget holds; no warn/error line with an exception.
 */
class AtaDiskFuzzTest {
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.REFUSED, new Findings("ata"), AtaFuzzing.BUDGET,
            0, AtaFuzzing.LOW, AtaFuzzing.HIGH_BASE, AtaFuzzing.HIGH);

    @FuzzTest(maxDuration = "10s")
    void commands(byte[] input) {
        boolean bigSectors = AtaFuzzing.Input.of(input).bigSectors();
        AhciDriveOptions options = AhciDriveOptions.parse(DriveKind.HD, "fuzz.img" + (bigSectors ? ",sectorsize=4096" : ""));
        AtaFuzzing.run(input, MEMORY, "ata", 64 * 1024, false, backend -> new AtaDisk("fuzz-disk", backend, options));
    }
}

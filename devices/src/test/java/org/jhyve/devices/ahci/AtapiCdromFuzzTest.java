package org.jhyve.devices.ahci;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;

/**
 * Fuzz target for ATAPI commands (docs/reliability.md): PACKET commands (and the ATA commands a CD-ROM
 * answers) with their 16-byte SCSI/MMC packets and PRD tables through {@link AtapiCdrom#execute}
 * ({@link AtaFuzzing} gives the input format), on a 32 KiB medium.
 *
 * <p>Documented exception: {@link DmaFault}. Asserted: as for {@link AtaDiskFuzzTest}; the medium is read-only,
 * so any write reaching the backend is a finding.
 */
class AtapiCdromFuzzTest {
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.REFUSED, new Findings("atapi"), AtaFuzzing.BUDGET,
            0, AtaFuzzing.LOW, AtaFuzzing.HIGH_BASE, AtaFuzzing.HIGH);
    private static final AhciDriveOptions OPTIONS = AhciDriveOptions.parse(DriveKind.CD, "fuzz.iso");

    @FuzzTest(maxDuration = "10s")
    void commands(byte[] input) {
        AtaFuzzing.run(input, MEMORY, "atapi", 16 * 2048, true, backend -> new AtapiCdrom("fuzz-cd", backend, OPTIONS));
    }
}

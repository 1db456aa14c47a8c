package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.ahci.AhciRegisters.*;

import java.util.List;
import org.jhyve.devices.fuzz.CheckingBlockBackend;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMachine;
import org.jhyve.fuzz.FuzzMemory;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciFunction;
import org.junit.jupiter.api.Test;

/**
 * What the AHCI fuzz target found, minimised to a test (the fuzzer's own input is replayed from the target's
 * Inputs directory as well; docs/reliability.md lists the findings).
 */
class AhciFuzzFindingsTest {
    /**
     * F2 (issue 14, item 2): with MSI enabled, a message the sink refused (KVM_SIGNAL_MSI failed with EPERM when
     * the guest programmed a destination no vCPU has) threw out of {@code AhciHba.sendMsi} on the port worker: the
     * worker thread died, and every later command on the port waited forever. Now the HBA contains it.
     */
    @Test
    void aRefusedMsiDoesNotEndThePortWorker() throws Exception {
        Findings findings = new Findings("F2");
        FuzzMemory memory = FuzzMemory.of(FuzzMemory.OutsideRam.REFUSED, findings, Long.MAX_VALUE, 0, 0x10000);
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> e.thrown() != null && !FuzzMachine.injected(e));
             FuzzMachine machine = new FuzzMachine(memory, n -> true)) {
            AtaDisk disk = new AtaDisk("disk", new CheckingBlockBackend(64 * 1024, false, memory, findings, n -> false),
                    AhciDriveOptions.parse(DriveKind.HD, "d.img"));
            AhciHba hba = new AhciHba("f2", List.of(disk), machine, machine.irq(AhciFuzzTest.GSI), AhciFuzzTest.GSI);
            machine.pci().add(new PciAddress(0, 5, 0), hba);
            AhciFuzzTest.Guest guest = new AhciFuzzTest.Guest(hba, machine, findings);
            guest.cfg(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
            guest.cfg(hba.msiCapability() + AhciHba.MSI_CONTROL, 2, 1); // MSI on; address and data left 0: no vCPU
            guest.start(0, IS_DHRS | IS_TFES);
            // Slot 0 and 1: FLUSH CACHE EXT (no data) in a command table at 0x1000.
            for (int slot = 0; slot < 2; slot++) {
                memory.raw().writeInt(0x400 + 32L * slot, 5);
                memory.raw().writeLong(0x400 + 32L * slot + 8, 0x1000);
            }
            memory.raw().write(0x1000, new byte[] {0x27, (byte) 0x80, (byte) AtaOpcodes.FLUSH_CACHE_EXT});
            guest.issue(0, 1, 0);
            guest.issue(0, 2, 0);
            assertThat(guest.port(0, P_CI)).as("both commands completed: the worker lives").isZero();
            hba.close();
        }
        assertThat(findings.all()).isEmpty();
    }
}

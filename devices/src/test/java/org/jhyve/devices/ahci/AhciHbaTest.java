package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jhyve.devices.ahci.AhciRegisters.*;

import java.util.List;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.jhyve.pci.PciFunction;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HBA as a driver meets it: PCI header and MSI capability, generic host control, port bring-up, interrupts. */
class AhciHbaTest {
    static AtaDisk disk() {
        return new AtaDisk("disk", new MemoryBlockBackend(1 << 20, false), AhciDriveOptions.parse(DriveKind.HD, "disk.img"));
    }

    static AtapiCdrom cdrom() {
        return new AtapiCdrom("cd", new MemoryBlockBackend(20 * 2048, true), AhciDriveOptions.parse(DriveKind.CD, "cd.iso"));
    }

    AhciTestDriver driver = new AhciTestDriver(disk());

    @AfterEach
    void close() {
        driver.close();
    }

    @Test
    void pciHeaderIsAnIch9AhciControllerWithAbarInBar5AndMsi() {
        assertThat(driver.cfgRead(PciFunction.VENDOR_ID, 2)).isEqualTo(0x8086);
        assertThat(driver.cfgRead(PciFunction.DEVICE_ID, 2)).isEqualTo(0x2922);
        assertThat(driver.cfgRead(PciFunction.REVISION, 4)).isEqualTo(0x0106_0102); // class 01, subclass 06, AHCI 1.0, rev 2
        assertThat(driver.cfgRead(PciFunction.INTERRUPT_PIN, 1)).isEqualTo(1);
        assertThat(driver.cfgRead(PciFunction.INTERRUPT_LINE, 1)).isEqualTo(AhciTestDriver.GSI);
        // BAR5 sizing: all ones reads back the 8 KiB mask; a 32-bit, non-prefetchable memory BAR.
        int bar5 = PciFunction.BAR0 + 4 * 5;
        int assigned = driver.cfgRead(bar5, 4);
        assertThat(assigned & 0xf).isZero();
        assertThat(assigned & 0xffff_fff0L).isEqualTo(driver.abar);
        driver.cfgWrite(bar5, 4, -1);
        assertThat(driver.cfgRead(bar5, 4)).isEqualTo(0xffff_e000);
        driver.cfgWrite(bar5, 4, assigned);
        for (int bar = 0; bar < 5; bar++) assertThat(driver.cfgRead(PciFunction.BAR0 + 4 * bar, 4)).as("BAR%d", bar).isZero();
        // The capability list holds exactly one MSI capability: one message, 64-bit addresses, disabled.
        assertThat(driver.cfgRead(PciFunction.STATUS, 2) & PciFunction.STATUS_CAPABILITIES).isNotZero();
        int cap = driver.cfgRead(PciFunction.CAPABILITIES_POINTER, 1);
        assertThat(cap).isEqualTo(driver.hba.msiCapability());
        assertThat(driver.cfgRead(cap, 2)).isEqualTo(0x0005); // ID 05h, no next capability
        assertThat(driver.cfgRead(cap + 2, 2)).isEqualTo(0x0080);
        driver.cfgWrite(cap + 2, 2, 0xffff);
        assertThat(driver.cfgRead(cap + 2, 2)).as("only enable and MME are writable").isEqualTo(0x00f1);
    }

    @Test
    void genericHostControlAfterResetDescribesOnePortWith32SlotsAndNcq() {
        driver.write(GHC, GHC_HR);
        assertThat(driver.read(GHC)).isEqualTo(GHC_AE);
        assertThat(driver.read(CAP)).isEqualTo(0xc134_1f00); // S64A SNCQ SCLO, ISS Gen3, SAM, NCS 31, NP 0
        assertThat(driver.read(PI)).isEqualTo(1);
        assertThat(driver.read(VS)).isEqualTo(0x0001_0300);
        assertThat(driver.read(CAP2)).isZero();
        assertThat(driver.read(IS)).isZero();
        driver.write(CAP, 0);
        driver.write(PI, 0);
        assertThat(driver.read(CAP)).as("read-only").isEqualTo(0xc134_1f00);
        assertThat(driver.read(PI)).isEqualTo(1);
        // Registers of ports that do not exist read as zero and ignore writes.
        driver.port(1, P_CLB, 0x1000);
        assertThat(driver.port(1, P_CLB)).isZero();
        assertThat(driver.port(1, P_SSTS)).isZero();
    }

    @Test
    void twoDrivesMakeTwoPorts() {
        driver.close();
        driver = new AhciTestDriver(disk(), cdrom());
        assertThat(driver.read(CAP) & 0x1f).isEqualTo(1);
        assertThat(driver.read(PI)).isEqualTo(3);
        assertThat(driver.port(0, P_SIG)).isEqualTo(0x0000_0101);
        assertThat(driver.port(1, P_SIG)).isEqualTo(0xeb14_0101);
        assertThat(driver.port(1, P_TFD)).isEqualTo(0x0100);
    }

    @Test
    void portComesUpWithSignatureAndLinkStatusAndComresetRedoesIt() {
        driver.write(GHC, GHC_HR);
        assertThat(driver.port(0, P_SSTS)).isEqualTo(0x133);        // device present and phy up, Gen3, active
        assertThat(driver.port(0, P_SIG)).isEqualTo(0x0000_0101);
        assertThat(driver.port(0, P_TFD)).isEqualTo(0x0150);         // DRDY DSC, error 01h
        assertThat(driver.port(0, P_CMD)).isEqualTo(CMD_SUD | CMD_POD);
        driver.port(0, P_CLB, (int) AhciTestDriver.commandList(0));
        driver.port(0, P_FB, (int) AhciTestDriver.fisArea(0) | 0xff);
        assertThat(driver.port(0, P_FB)).as("256-byte aligned").isEqualTo((int) AhciTestDriver.fisArea(0));
        driver.port(0, P_CMD, CMD_FRE);
        assertThat(driver.port(0, P_CMD)).isEqualTo(CMD_SUD | CMD_POD | CMD_FRE | CMD_FR);

        driver.port(0, P_SCTL, 0x301);
        assertThat(driver.port(0, P_SSTS)).isZero();
        assertThat(driver.port(0, P_SIG)).isEqualTo(0xffff_ffff);
        assertThat(driver.port(0, P_TFD)).isEqualTo(TaskFile.BSY);
        driver.port(0, P_SCTL, 0x300);
        assertThat(driver.port(0, P_SCTL)).isEqualTo(0x300);
        assertThat(driver.port(0, P_SSTS)).isEqualTo(0x133);
        assertThat(driver.port(0, P_SIG)).isEqualTo(0x0000_0101);
        // The signature D2H FIS landed in the received-FIS area (no interrupt bit: PxIS stays clear).
        assertThat(driver.receivedFis(0, RFIS_D2H, 20)).containsExactly(
                0x34, 0x00, 0x50, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
        assertThat(driver.port(0, P_IS)).isZero();
        // A speed limit in SCTL.SPD shows in SSTS.SPD.
        driver.port(0, P_SCTL, 0x311);
        driver.port(0, P_SCTL, 0x310);
        assertThat(driver.port(0, P_SSTS)).isEqualTo(0x113);

        driver.port(0, P_CMD, CMD_FRE | CMD_ST);
        assertThat(driver.port(0, P_CMD)).isEqualTo(0xc017); // CR FR FRE POD SUD ST
        driver.port(0, P_CMD, CMD_FRE | CMD_ST | CMD_ATAPI | CMD_CLO | 0x1000_0000);
        assertThat(driver.port(0, P_CMD)).as("ATAPI kept, CLO and ICC self-clear").isEqualTo(0xc017 | CMD_ATAPI);
    }

    @Test
    void intxFollowsGhcIeAndIsUntilTheHandlerClearsThem() {
        driver.resetAndStart(true);
        assertThat(driver.port(0, P_IE)).isEqualTo(0x7800_003f);
        int tfd = driver.run(0, AhciTestDriver.commandFis(0xec, 0, 0, 0, 0), null, false, 512);
        assertThat(tfd).isEqualTo(0x50);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_PSS);
        assertThat(driver.read(IS)).isEqualTo(1);
        assertThat(driver.machine.irqLevel(AhciTestDriver.GSI)).isTrue();
        // Clearing PxIS alone keeps the latched IS bit, and so the level; clearing IS lowers it.
        driver.port(0, P_IS, IS_PSS);
        assertThat(driver.machine.irqLevel(AhciTestDriver.GSI)).isTrue();
        driver.write(IS, 1);
        assertThat(driver.machine.irqLevel(AhciTestDriver.GSI)).isFalse();
        assertThat(driver.machine.irqEvents()).containsExactly("21+", "21-");
        assertThat(driver.machine.msis()).isEmpty();

        // With GHC.IE off a completion sets IS but raises nothing; turning IE on raises the line.
        driver.write(GHC, GHC_AE);
        driver.run(0, AhciTestDriver.commandFis(0xec, 0, 0, 0, 0), null, false, 512);
        assertThat(driver.read(IS)).isEqualTo(1);
        assertThat(driver.machine.irqLevel(AhciTestDriver.GSI)).isFalse();
        driver.write(GHC, GHC_AE | GHC_IE);
        assertThat(driver.machine.irqLevel(AhciTestDriver.GSI)).isTrue();
        // The PCI INTx-disable bit masks the line.
        driver.cfgWrite(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER | PciFunction.COMMAND_INTX_DISABLE);
        assertThat(driver.machine.irqLevel(AhciTestDriver.GSI)).isFalse();
    }

    @Test
    void msiSendsOneMessagePerNewIsBitAndSilencesIntx() {
        driver.resetAndStart(true);
        int cap = driver.hba.msiCapability();
        driver.cfgWrite(cap + AhciHba.MSI_ADDRESS, 4, 0xfee0_1000);
        driver.cfgWrite(cap + AhciHba.MSI_ADDRESS_HIGH, 4, 0);
        driver.cfgWrite(cap + AhciHba.MSI_DATA, 2, 0x4041);
        driver.cfgWrite(cap + AhciHba.MSI_CONTROL, 2, 1);
        driver.run(0, AhciTestDriver.commandFis(0xec, 0, 0, 0, 0), null, false, 512);
        assertThat(driver.machine.msis()).containsExactly(new TestMachine.Msi(0xfee0_1000L, 0x4041));
        // IS still latched: another completion does not send a second message...
        driver.run(0, AhciTestDriver.commandFis(0xe7, 0, 0, 0, 0), null, false, 0);
        assertThat(driver.machine.msis()).hasSize(1);
        // ...until the handler has cleared PxIS and IS.
        driver.acknowledge(0);
        driver.run(0, AhciTestDriver.commandFis(0xe7, 0, 0, 0, 0), null, false, 0);
        assertThat(driver.machine.msis()).hasSize(2);
        assertThat(driver.machine.irqEvents()).isEmpty();
    }

    @Test
    void hbaResetStopsPortsAndClearsInterruptState() {
        driver.resetAndStart(true);
        driver.run(0, AhciTestDriver.commandFis(0xec, 0, 0, 0, 0), null, false, 512);
        assertThat(driver.machine.irqLevel(AhciTestDriver.GSI)).isTrue();
        driver.write(GHC, GHC_HR);
        assertThat(driver.machine.irqLevel(AhciTestDriver.GSI)).isFalse();
        assertThat(driver.read(GHC)).isEqualTo(GHC_AE);
        assertThat(driver.port(0, P_IS)).isZero();
        assertThat(driver.port(0, P_IE)).isZero();
        assertThat(driver.port(0, P_CMD)).isEqualTo(CMD_SUD | CMD_POD);
        assertThat(driver.port(0, P_CLB)).as("CLB survives the reset").isEqualTo((int) AhciTestDriver.commandList(0));
    }

    @Test
    void commandsIssuedWhileStoppedAreIgnored() {
        driver.resetAndStart(false);
        driver.port(0, P_CMD, CMD_FRE);
        driver.prepare(0, 0, AhciTestDriver.commandFis(0xec, 0, 0, 0, 0), null, false, List.of(new AhciTestDriver.Prd(AhciTestDriver.DATA, 512)));
        driver.port(0, P_SACT, 1);
        driver.port(0, P_CI, 1);
        driver.settle(0);
        assertThat(driver.port(0, P_CI)).isZero();
        assertThat(driver.port(0, P_SACT)).isZero();
        assertThat(driver.prdbc(0, 0)).isEqualTo(0x7777_7777);
    }

    @Test
    void aPortsRegistersAreTouchedOnlyUnderTheHbaLockAsAsserted() {
        // Tests run with assertions enabled (surefire's default): this fails if they are not.
        AhciPort port = driver.hba.port(0);
        assertThatThrownBy(() -> port.read(P_IS)).as("a register read without the lock").isInstanceOf(AssertionError.class);
        assertThatThrownBy(() -> port.write(P_CI, 1)).isInstanceOf(AssertionError.class);
        assertThatThrownBy(port::nextCommand).isInstanceOf(AssertionError.class);
        assertThatThrownBy(port::hbaReset).isInstanceOf(AssertionError.class);
        assertThat(port.guestErrors()).as("a counter, no register: any thread").isZero();
        assertThat(driver.hba.quiescent(0)).as("the HBA takes the lock for it").isTrue();
    }
}

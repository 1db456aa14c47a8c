package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.jhyve.devices.ahci.AhciRegisters.*;
import static org.jhyve.devices.ahci.AhciTestDriver.DATA;
import static org.jhyve.devices.ahci.AhciTestDriver.commandFis;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.jhyve.devices.ahci.AhciTestDriver.Prd;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.jhyve.pci.PciFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A guest that points the HBA outside its RAM or lies about lengths: each case ends in the documented port
 * error (HBFS for a bad address, OFS+IFS for a short PRD table, TFES for what the device refuses), with no
 * exception reaching the caller and the port usable again after an engine restart.
 */
class AhciHostileGuestTest {
    /** Past the 16 MiB of the test machine's RAM. */
    static final long OUTSIDE = 0x7ff0_0000L;
    static final int READ_DMA_EXT = 0x25, WRITE_DMA_EXT = 0x35, LBA = 0x40;

    final MemoryBlockBackend backend = new MemoryBlockBackend(1 << 20, false);
    final AhciTestDriver driver = new AhciTestDriver(new AtaDisk("disk", backend, AhciDriveOptions.parse(DriveKind.HD, "d.img")),
            new AtapiCdrom("cd", new MemoryBlockBackend(8 * 2048, true), AhciDriveOptions.parse(DriveKind.CD, "c.iso")));

    AhciHostileGuestTest() {
        for (int i = 0; i < backend.data.length; i++) backend.data[i] = (byte) (i * 3);
        driver.resetAndStart(true);
    }

    @AfterEach
    void close() {
        driver.close();
    }

    long guestErrors() {
        return driver.hba.port(0).guestErrors();
    }

    /** After a restart of the engine, a good read works: the port survived. */
    void assertPortWorksAgain() {
        driver.restartEngine(0);
        driver.port(0, P_CLB, (int) AhciTestDriver.commandList(0));
        driver.port(0, P_FB, (int) AhciTestDriver.fisArea(0));
        assertThat(driver.run(0, commandFis(READ_DMA_EXT, 0, 1, 1, LBA), null, false, 512)).isEqualTo(0x50);
        assertThat(driver.memory.readBytes(DATA, 512)).isEqualTo(java.util.Arrays.copyOfRange(backend.data, 512, 1024));
    }

    @Test
    void aCommandListOutsideRamIsAHostBusFatalError() {
        driver.port(0, P_CMD, CMD_FRE);
        driver.port(0, P_CLB, (int) OUTSIDE);
        driver.port(0, P_CMD, CMD_FRE | CMD_ST);
        assertThatCode(() -> driver.issueAndWait(0, 1 << 31)).doesNotThrowAnyException();
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_HBFS);
        assertThat(driver.port(0, P_CI)).isEqualTo(1 << 31);
        assertThat((driver.port(0, P_CMD) >>> CMD_CCS_SHIFT) & 0x1f).as("CCS names the slot").isEqualTo(31);
        assertThat(driver.machine.irqLevel(AhciTestDriver.GSI)).isTrue();
        assertThat(guestErrors()).isEqualTo(1);
        // Halted: another slot is not even looked at.
        driver.port(0, P_CI, 1);
        driver.settle(0);
        assertThat(guestErrors()).isEqualTo(1);
        // CLBU puts the list above 4 GiB, also outside.
        driver.restartEngine(0);
        driver.port(0, P_CMD, CMD_FRE);
        driver.port(0, P_CLBU, 1);
        driver.port(0, P_CMD, CMD_FRE | CMD_ST);
        driver.issueAndWait(0, 1);
        assertThat(driver.port(0, P_IS) & IS_HBFS).isNotZero();
        driver.port(0, P_CLBU, 0);
        assertPortWorksAgain();
    }

    @Test
    void aCommandTableOutsideRamIsAHostBusFatalError() {
        driver.header(0, 0, 5 | 1 << 16, OUTSIDE);
        driver.issue(0, 0);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_HBFS);
        assertThat(driver.port(0, P_CI)).isEqualTo(1);
        // A table whose FIS is the last thing in RAM: its PRD table is outside.
        driver.restartEngine(0);
        driver.header(0, 0, 5 | 1 << 16, (16L << 20) - 0x80);
        driver.memory.write((16L << 20) - 0x80, commandFis(READ_DMA_EXT, 0, 0, 1, LBA));
        driver.issue(0, 0);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_HBFS);
        assertPortWorksAgain();
    }

    @Test
    void prdBuffersOutsideRamFaultBeforeTheDiskIsTouched() {
        byte[] before = backend.data.clone();
        driver.prepare(0, 0, commandFis(WRITE_DMA_EXT, 0, 0, 2, LBA), null, true,
                List.of(new Prd(DATA, 512), new Prd(0xffff_ffff_0000L, 512)));
        driver.issue(0, 0);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_HBFS);
        assertThat(backend.data).as("nothing written").isEqualTo(before);
        assertThat(driver.prdbc(0, 0)).isEqualTo(0x7777_7777);
        // A buffer that starts in RAM and runs past its end.
        driver.restartEngine(0);
        driver.prepare(0, 0, commandFis(READ_DMA_EXT, 0, 0, 8, LBA), null, false, List.of(new Prd((16L << 20) - 512, 4096)));
        driver.issue(0, 0);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_HBFS);
        assertPortWorksAgain();
    }

    @Test
    void aHugePrdTableRunningOutOfRamFaultsAtTheFirstEntryOutside() {
        // PRDTL 65535 with the table at the very end of RAM: entries are read only as far as the transfer needs
        // them, and the first one outside RAM is the fault. Two-byte entries: a sector needs 256 of them.
        long table = (16L << 20) - 0x100; // command tables are 128-byte aligned: room for 8 entries
        driver.header(0, 0, 5 | 0xffff << 16, table);
        driver.memory.write(table, commandFis(READ_DMA_EXT, 0, 0, 1, LBA));
        for (int i = 0; i < 8; i++) {
            driver.memory.writeLong(table + 0x80 + 16L * i, DATA + 2L * i);
            driver.memory.writeInt(table + 0x80 + 16L * i + 12, 1);
        }
        assertThatCode(() -> driver.issue(0, 0)).doesNotThrowAnyException();
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_HBFS);
        assertPortWorksAgain();
    }

    @Test
    void maximalByteCountsAreUsedOnlyAsFarAsTheTransferGoes() {
        // Every entry says 4 MiB (DBC 3FFFFFh). Used for 1 MiB inside RAM that is fine...
        byte[] everything = backend.data.clone();
        driver.prepare(0, 0, commandFis(READ_DMA_EXT, 0, 0, 2048, LBA), null, false,
                List.of(new Prd(0x40_0000, 4 << 20), new Prd(0x40_0000, 4 << 20)));
        assertThat(driver.issue(0, 0)).isEqualTo(0x50);
        assertThat(driver.memory.readBytes(0x40_0000, 1 << 20)).isEqualTo(everything);
        // ...but 1 MiB from 512 KiB before the end of RAM is not.
        driver.prepare(0, 0, commandFis(READ_DMA_EXT, 0, 0, 2048, LBA), null, false, List.of(new Prd((16L << 20) - (512 << 10), 4 << 20)));
        driver.issue(0, 0);
        assertThat(driver.port(0, P_IS) & (IS_HBFS | IS_TFES)).isEqualTo(IS_HBFS);
        assertPortWorksAgain();
    }

    @Test
    void aPrdTableShorterThanTheTransferIsAnOverflow() {
        byte[] before = backend.data.clone();
        driver.prepare(0, 0, commandFis(WRITE_DMA_EXT, 0, 0, 2, LBA), null, true, List.of(new Prd(DATA, 512)));
        driver.issue(0, 0);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_OFS | IS_IFS);
        assertThat(driver.port(0, P_CI)).isEqualTo(1);
        assertThat(backend.data).isEqualTo(before);
        driver.restartEngine(0);
        // No PRD table at all for a read.
        driver.prepare(0, 0, commandFis(READ_DMA_EXT, 0, 0, 1, LBA), null, false, List.of());
        driver.issue(0, 0);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_OFS | IS_IFS);
        assertPortWorksAgain();
    }

    @Test
    void aReceivedFisAreaOutsideRamIsAHostBusFatalError() {
        driver.port(0, P_CMD, 0);
        driver.port(0, P_FB, (int) OUTSIDE);
        driver.port(0, P_CMD, CMD_FRE | CMD_ST);
        driver.run(0, commandFis(READ_DMA_EXT, 0, 0, 1, LBA), null, false, 512);
        assertThat(driver.port(0, P_IS) & IS_HBFS).isNotZero();
        assertPortWorksAgain();
    }

    @Test
    void withoutBusMasteringNothingIsFetched() {
        driver.cfgWrite(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY);
        driver.prepare(0, 0, commandFis(READ_DMA_EXT, 0, 0, 1, LBA), null, false, List.of(new Prd(DATA, 512)));
        driver.memory.fill(DATA, 512, (byte) 0x5a);
        driver.issue(0, 0);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_HBFS);
        assertThat(driver.memory.readByte(DATA)).isEqualTo((byte) 0x5a);
        driver.cfgWrite(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
        assertPortWorksAgain();
    }

    @Test
    void deviceLevelNonsenseIsATaskFileError() {
        // Not a register H2D FIS.
        byte[] fis = commandFis(READ_DMA_EXT, 0, 0, 1, LBA);
        fis[0] = 0x46;
        driver.prepare(0, 0, fis, null, false, List.of(new Prd(DATA, 512)));
        assertThat(driver.issue(0, 0)).isEqualTo(0x0441);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS | IS_TFES);
        driver.restartEngine(0);
        // A queued command whose tag is not its slot, and one whose SACT bit is not set.
        driver.port(0, P_SACT, 1 << 5);
        driver.prepare(0, 5, commandFis(0x60, 1, 0, 7 << 3, LBA), null, false, List.of(new Prd(DATA, 512)));
        assertThat(driver.issue(0, 5)).isEqualTo(0x0441);
        driver.restartEngine(0);
        driver.prepare(0, 6, commandFis(0x60, 1, 0, 6 << 3, LBA), null, false, List.of(new Prd(DATA, 512)));
        assertThat(driver.issue(0, 6)).isEqualTo(0x0441);
        assertPortWorksAgain();
    }

    @Test
    void softResetThroughControlFisesResetsTheDevice() {
        byte[] srst = commandFis(0, 0, 0, 0, 0);
        srst[1] = 0; // control FIS
        srst[15] = 0x04;
        driver.prepare(0, 0, srst, null, false, List.of());
        driver.issue(0, 0);
        assertThat(driver.port(0, P_CI)).isZero();
        assertThat(driver.port(0, P_TFD) & TaskFile.BSY).isNotZero();
        srst[15] = 0;
        driver.prepare(0, 1, srst, null, false, List.of());
        driver.issue(0, 1);
        assertThat(driver.port(0, P_TFD)).isEqualTo(0x0150);
        assertThat(driver.port(0, P_SIG)).isEqualTo(0x101);
        assertThat(driver.port(1, P_SIG)).isEqualTo(0xeb14_0101);
    }

    @Test
    void narrowAndWideRegisterAccessesBehave() {
        long abar = driver.abar;
        assertThat(driver.machine.mmio().read(abar + VS, 2)).isEqualTo(0x0300);
        assertThat(driver.machine.mmio().read(abar + VS + 2, 2)).isEqualTo(0x0001);
        assertThat(driver.machine.mmio().read(abar + CAP, 8)).isEqualTo(0x8000_0002_c134_1f01L); // CAP and GHC (IE set)
        driver.port(0, P_IS, -1);
        // A 1-byte write to a write-one-to-clear register is dropped, not merged.
        driver.run(0, commandFis(0xe7, 0, 0, 0, 0), null, false, 0);
        driver.machine.mmio().write(abar + PORT_BASE + P_IS, 1, 0xff);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS);
        // A 64-bit write sets CLB and CLBU together.
        driver.port(0, P_CMD, 0);
        driver.machine.mmio().write(abar + PORT_BASE + P_CLB, 8, 0x0000_0001_0000_0400L);
        assertThat(driver.port(0, P_CLB)).isEqualTo(0x400);
        assertThat(driver.port(0, P_CLBU)).isEqualTo(1);
        assertThat(driver.machine.mmio().read(abar + 0x1ffc, 4)).as("beyond the ports").isZero();
    }

    /**
     * Random register writes and random bytes in the guest's command structures: whatever the guest does, no
     * exception escapes and the HBA still works after a reset.
     */
    @Test
    void randomGuestBehaviourNeverThrows() {
        Random random = new Random(20240611);
        int[] registers = {P_CLB, P_CLBU, P_FB, P_FBU, P_IS, P_IE, P_CMD, P_SCTL, P_SERR, P_SACT, P_CI};
        List<Throwable> thrown = new ArrayList<>();
        for (int round = 0; round < 400; round++) {
            // Scribble over a command list and tables in RAM, sometimes with plausible values.
            for (int i = 0; i < 16; i++) {
                long at = AhciTestDriver.commandList(0) + random.nextInt(0x1000);
                driver.memory.writeInt(at & ~3, random.nextInt(4) == 0 ? 0x40000 + random.nextInt(0x40000) : random.nextInt());
                long t = AhciTestDriver.table(0, random.nextInt(32)) + random.nextInt(0x100);
                driver.memory.writeByte(t, (byte) (random.nextBoolean() ? 0x27 : random.nextInt()));
            }
            int port = random.nextInt(2);
            int register = registers[random.nextInt(registers.length)];
            int value = switch (register) {
                case P_CLB -> random.nextBoolean() ? (int) AhciTestDriver.commandList(port) : random.nextInt();
                case P_CLBU, P_FBU -> random.nextInt(8) == 0 ? random.nextInt() : 0;
                case P_CMD -> random.nextBoolean() ? CMD_ST | CMD_FRE : random.nextInt();
                default -> random.nextInt();
            };
            try {
                driver.port(port, register, value);
                if (random.nextInt(20) == 0) driver.write(GHC, random.nextInt());
            } catch (Throwable t) {
                thrown.add(t);
            }
        }
        assertThat(thrown).isEmpty();
        driver.resetAndStart(true);
        assertPortWorksAgain();
    }
}

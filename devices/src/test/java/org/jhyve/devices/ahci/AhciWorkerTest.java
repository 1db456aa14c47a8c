package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.ahci.AhciRegisters.*;
import static org.jhyve.devices.ahci.AhciTestDriver.DATA;
import static org.jhyve.devices.ahci.AhciTestDriver.awaitTrue;
import static org.jhyve.devices.ahci.AhciTestDriver.commandFis;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jhyve.devices.ahci.AhciTestDriver.Prd;
import org.jhyve.devices.testing.GatedBackend;
import org.jhyve.devices.testing.RewiredMachine;
import org.jhyve.memory.MappingLifetime;
import org.jhyve.memory.MemoryRegion;
import org.jhyve.memory.SegmentGuestMemory;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Commands run on a worker per port: the vCPU's PxCI write returns at once, register reads do not wait for the
 * disk, and a reset (ST cleared, GHC.HR) during a command drops its completion once its I/O has returned.
 */
class AhciWorkerTest {
    static final int READ_DMA_EXT = 0x25, READ_FPDMA = 0x60, LBA = 0x40;

    final GatedBackend backend = new GatedBackend();
    final AhciTestDriver driver = new AhciTestDriver(new AtaDisk("disk", backend, AhciDriveOptions.parse(DriveKind.HD, "gated.img")));
    final ExecutorService otherVcpu = Executors.newSingleThreadExecutor();

    AhciWorkerTest() {
        driver.resetAndStart(true);
        int cap = driver.hba.msiCapability();
        driver.cfgWrite(cap + AhciHba.MSI_ADDRESS, 4, 0xfee0_0000);
        driver.cfgWrite(cap + AhciHba.MSI_DATA, 2, 0x41);
        driver.cfgWrite(cap + AhciHba.MSI_CONTROL, 2, 1);
    }

    @AfterEach
    void close() {
        backend.gate.countDown();
        otherVcpu.shutdownNow();
        driver.close();
    }

    /** A register read on another thread, which must answer while the worker sits in the backend. */
    int readElsewhere(int register) throws Exception {
        return otherVcpu.submit(() -> driver.port(0, register)).get(2, TimeUnit.SECONDS);
    }

    /** Issues {@code slots} from another thread (a vCPU), returning once that write has returned. */
    void issueElsewhere(int slots) throws Exception {
        otherVcpu.submit(() -> driver.port(0, P_CI, slots)).get(2, TimeUnit.SECONDS);
        assertThat(backend.entered.await(5, TimeUnit.SECONDS)).as("the worker reached the backend").isTrue();
    }

    void prepareRead(int slot) {
        driver.memory.fill(DATA, 1024, (byte) 0);
        driver.prepare(0, slot, commandFis(READ_DMA_EXT, 0, 2, 2, LBA), null, false, List.of(new Prd(DATA, 1024)));
    }

    @Test
    void thePxCiWriteReturnsWhileTheCommandExecutesAndRegistersStayReadable() throws Exception {
        prepareRead(0);
        issueElsewhere(1);
        assertThat(readElsewhere(P_CI)).as("still executing").isEqualTo(1);
        assertThat(readElsewhere(P_SACT)).isZero();
        assertThat(readElsewhere(P_CMD) & CMD_CR).isNotZero();
        assertThat(readElsewhere(P_IS)).isZero();
        assertThat(driver.machine.msis()).isEmpty();

        backend.gate.countDown();
        awaitTrue("the read completes", () -> driver.port(0, P_CI) == 0);
        assertThat(driver.port(0, P_TFD)).isEqualTo(0x50);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS);
        assertThat(driver.prdbc(0, 0)).isEqualTo(1024);
        assertThat(driver.memory.readBytes(DATA, 1024)).isEqualTo(Arrays.copyOfRange(backend.data.data, 1024, 2048));
        assertThat(driver.machine.msis()).containsExactly(new TestMachine.Msi(0xfee0_0000L, 0x41));
    }

    @Test
    void clearingStDuringAQueuedCommandKeepsCrUntilItReturnsAndDropsItsCompletion() throws Exception {
        driver.prepare(0, 3, commandFis(READ_FPDMA, 2, 2, 3 << 3, LBA), null, false, List.of(new Prd(DATA, 1024)));
        driver.port(0, P_SACT, 1 << 3);
        issueElsewhere(1 << 3);
        byte[] fisBefore = driver.receivedFis(0, 0, RFIS_SIZE);

        driver.port(0, P_CMD, CMD_FRE);
        assertThat(driver.port(0, P_CI)).isZero();
        assertThat(driver.port(0, P_SACT)).isZero();
        assertThat(driver.port(0, P_CMD) & (CMD_ST | CMD_CR)).as("CR stays set while the command runs").isEqualTo(CMD_CR);
        backend.gate.countDown();
        awaitTrue("CR clears once the command has returned", () -> (driver.port(0, P_CMD) & CMD_CR) == 0);
        driver.settle(0);

        assertThat(driver.port(0, P_IS)).as("no completion bits").isZero();
        assertThat(driver.read(IS)).isZero();
        assertThat(driver.port(0, P_CI)).isZero();
        assertThat(driver.port(0, P_SACT)).isZero();
        assertThat(driver.receivedFis(0, 0, RFIS_SIZE)).as("no FIS posted").isEqualTo(fisBefore);
        assertThat(driver.machine.msis()).isEmpty();
        assertThat(driver.machine.irqEvents()).isEmpty();

        // The engine starts again and the next command completes normally.
        driver.port(0, P_CMD, CMD_FRE | CMD_ST);
        prepareRead(0);
        assertThat(driver.issue(0, 0)).isEqualTo(0x50);
        assertThat(driver.port(0, P_IS)).isEqualTo(IS_DHRS);
        assertThat(driver.machine.msis()).hasSize(1);
    }

    @Test
    void anHbaResetDuringACommandDropsItsCompletionAndHrReadsOneUntilItReturns() throws Exception {
        prepareRead(0);
        issueElsewhere(1);
        byte[] fisBefore = driver.receivedFis(0, 0, RFIS_SIZE);

        driver.write(GHC, GHC_AE | GHC_HR);
        assertThat(driver.read(GHC) & GHC_HR).as("the reset waits for the command in flight").isEqualTo(GHC_HR);
        assertThat(driver.port(0, P_CI)).isZero();
        assertThat(driver.port(0, P_IS)).isZero();
        assertThat(driver.port(0, P_CMD) & CMD_CR).isNotZero();
        backend.gate.countDown();
        awaitTrue("HR clears once the command has returned", () -> (driver.read(GHC) & GHC_HR) == 0);
        driver.settle(0);

        assertThat(driver.port(0, P_CMD)).isEqualTo(CMD_SUD | CMD_POD);
        assertThat(driver.port(0, P_IS)).isZero();
        assertThat(driver.read(IS)).isZero();
        assertThat(driver.port(0, P_TFD)).as("the device's reset signature, not the read's status").isEqualTo(0x0150);
        assertThat(driver.prdbc(0, 0)).as("no PRDBC write-back").isEqualTo(0x7777_7777);
        assertThat(driver.receivedFis(0, 0, RFIS_SIZE)).isEqualTo(fisBefore);
        assertThat(driver.machine.msis()).isEmpty();
        assertThat(driver.machine.irqEvents()).isEmpty();

        driver.resetAndStart(true);
        prepareRead(0);
        assertThat(driver.issue(0, 0)).isEqualTo(0x50);
        assertThat(driver.memory.readBytes(DATA, 1024)).isEqualTo(Arrays.copyOfRange(backend.data.data, 1024, 2048));
    }

    @Test
    void aComresetDuringACommandKeepsTheDeviceBusyUntilItReturns() throws Exception {
        prepareRead(0);
        issueElsewhere(1);
        driver.port(0, P_CMD, CMD_FRE);
        driver.port(0, P_SCTL, 0x301);
        driver.port(0, P_SCTL, 0x300);
        assertThat(driver.port(0, P_TFD) & TaskFile.BSY).as("the device still resets").isNotZero();
        backend.gate.countDown();
        awaitTrue("the signature arrives", () -> driver.port(0, P_TFD) == 0x0150);
        assertThat(driver.port(0, P_SIG)).isEqualTo(0x101);
        assertThat(driver.port(0, P_IS)).isZero();
        assertThat(driver.prdbc(0, 0)).isEqualTo(0x7777_7777);
    }

    @Test
    void closeGivesUpOnAStuckReadAndGuestRamStaysMappedUntilTheReadHasLanded() throws Exception {
        // Guest RAM in an arena that the memory's lifetime closes, as KvmVm's: touching it after that throws.
        Arena ram = Arena.ofShared();
        byte[][] dataAtUnmap = new byte[1][];
        SegmentGuestMemory[] memory = new SegmentGuestMemory[1];
        MappingLifetime lifetime = new MappingLifetime(() -> {
            dataAtUnmap[0] = memory[0].readBytes(DATA, 1024);
            ram.close();
        });
        memory[0] = new SegmentGuestMemory(List.of(new MemoryRegion(0, ram.allocate(16L << 20, 4096))), lifetime);
        GatedBackend stuck = new GatedBackend();
        try (AhciTestDriver vm = new AhciTestDriver(m -> new RewiredMachine(m, memory[0], m.msi()),
                new AtaDisk("disk", stuck, AhciDriveOptions.parse(DriveKind.HD, "stuck.img")))) {
            vm.resetAndStart(true);
            vm.prepare(0, 0, commandFis(READ_DMA_EXT, 0, 2, 2, LBA), null, false, List.of(new Prd(DATA, 1024)));
            vm.port(0, P_CI, 1);
            assertThat(stuck.entered.await(5, TimeUnit.SECONDS)).as("the read is stuck in the backend").isTrue();

            long start = System.nanoTime();
            vm.hba.close(Duration.ofMillis(200));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("close gives up").isLessThan(Duration.ofSeconds(2));
            assertThat(lifetime.release()).as("what KvmVm.close does next: one thread still holds RAM").isEqualTo(1);
            assertThat(lifetime.unmapped()).isFalse();

            stuck.gate.countDown();
            awaitTrue("the worker returns and, ending, lets RAM go", lifetime::unmapped);
            assertThat(dataAtUnmap[0]).as("the read landed in guest RAM before it was unmapped")
                    .isEqualTo(Arrays.copyOfRange(stuck.data.data, 1024, 2048));
        }
    }

    static long workers(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    @Test
    void closeEndsTheWorkerOfEveryPort() {
        AhciTestDriver two = new AhciTestDriver(AhciHbaTest.disk(), AhciHbaTest.cdrom());
        String prefix = "jhyve-ahci-ahci-test-p";
        long before = workers(prefix);
        two.resetAndStart(true);
        assertThat(two.run(0, commandFis(0xec, 0, 0, 0, 0), null, false, 512)).isEqualTo(0x50);
        assertThat(Thread.getAllStackTraces().keySet().stream().map(Thread::getName))
                .contains(prefix + "0", prefix + "1");
        assertThat(workers(prefix)).isEqualTo(before + 2);
        two.close();
        assertThat(workers(prefix)).isEqualTo(before);
    }
}

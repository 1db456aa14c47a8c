package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.jhyve.devices.ahci.AhciRegisters.*;
import static org.jhyve.devices.ahci.AhciTestDriver.DATA;
import static org.jhyve.devices.ahci.AhciTestDriver.awaitTrue;
import static org.jhyve.devices.ahci.AhciTestDriver.commandFis;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jhyve.devices.block.MemoryBlockBackend;
import org.jhyve.devices.testing.FaultingGuestMemory;
import org.jhyve.devices.testing.RewiredMachine;
import org.jhyve.hv.HypervisorException;
import org.jhyve.testing.TestMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Faults the guest can provoke outside the device model, here an MSI the platform refuses (KVM_SIGNAL_MSI fails
 * when no vCPU matches the destination the guest programmed), stay inside the HBA: the interrupt is lost, the
 * fault is logged and counted, and the port's worker goes on serving. A worker that died all the same (an Error)
 * is replaced when the guest resets the HBA or the link, as Linux's error handler does after a timeout. An
 * exception nobody expected while completing a command fails the port (PxIS.IFS), not the worker.
 */
class AhciFaultContainmentTest {
    static final int READ_DMA_EXT = 0x25, READ_FPDMA = 0x60, LBA = 0x40;
    static final int MSI_ADDRESS = 0xfee0_0000, MSI_DATA = 0x41;

    /** An MSI sink that throws what {@code failure} gives while it gives something, then records. */
    static final class FlakyMsi {
        final AtomicInteger failuresLeft = new AtomicInteger();
        volatile Supplier<Throwable> failure = () -> new HypervisorException("ioctl KVM_SIGNAL_MSI failed: EPERM", 1);
        final List<TestMachine.Msi> delivered = new CopyOnWriteArrayList<>();
        final AtomicInteger attempts = new AtomicInteger();

        void signal(long address, int data) {
            attempts.incrementAndGet();
            if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) sneakyThrow(failure.get());
            delivered.add(new TestMachine.Msi(address, data));
        }

        @SuppressWarnings("unchecked")
        static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
            throw (T) t;
        }
    }

    final FlakyMsi msi = new FlakyMsi();
    final MemoryBlockBackend backend = new MemoryBlockBackend(1 << 20, false);
    final AhciTestDriver driver = new AhciTestDriver(m -> RewiredMachine.withMsi(m, msi::signal),
            new AtaDisk("disk", backend, AhciDriveOptions.parse(DriveKind.HD, "d.img")));

    AhciFaultContainmentTest() {
        for (int i = 0; i < backend.data.length; i++) backend.data[i] = (byte) (i * 7 + 3);
        driver.resetAndStart(true);
        int cap = driver.hba.msiCapability();
        driver.cfgWrite(cap + AhciHba.MSI_ADDRESS, 4, MSI_ADDRESS);
        driver.cfgWrite(cap + AhciHba.MSI_DATA, 2, MSI_DATA);
        driver.cfgWrite(cap + AhciHba.MSI_CONTROL, 2, 1);
    }

    @AfterEach
    void close() {
        driver.close();
    }

    /** A 1 KiB read of LBA 2 completes with the data the disk holds. */
    void assertAReadWorks() {
        driver.acknowledge(0);
        driver.memory.fill(DATA, 1024, (byte) 0);
        assertThat(driver.run(0, commandFis(READ_DMA_EXT, 0, 2, 2, LBA), null, false, 1024)).as("PxTFD").isEqualTo(0x50);
        assertThat(driver.memory.readBytes(DATA, 1024)).isEqualTo(Arrays.copyOfRange(backend.data, 1024, 2048));
    }

    @Test
    void theWorkerServesTheNextCommandAfterTheMsiSinkThrew() {
        msi.failuresLeft.set(1);
        assertAReadWorks();
        awaitTrue("the worker tried to interrupt", () -> msi.attempts.get() == 1);
        assertThat(msi.delivered).as("that interrupt is lost").isEmpty();

        assertAReadWorks();
        awaitTrue("the next completion interrupts", () -> msi.delivered.size() == 1);
        assertThat(msi.delivered).containsExactly(new TestMachine.Msi(0xfee0_0000L, MSI_DATA));
        assertThat(driver.hba.contained()).as("the fault is counted").isEqualTo(1);
    }

    @Test
    void anMsiRefusedOnTheVcpuThreadDoesNotReachTheVcpu() {
        driver.write(GHC, GHC_AE); // interrupts off: the completion only latches IS
        assertAReadWorks();
        assertThat(driver.read(IS)).isEqualTo(1);
        msi.failuresLeft.set(1);
        // Turning GHC.IE on with IS pending sends the MSI from this (the vCPU's) thread.
        assertThatCode(() -> driver.write(GHC, GHC_AE | GHC_IE)).doesNotThrowAnyException();
        assertThat(msi.attempts.get()).isEqualTo(1);
        assertThat(driver.hba.contained()).isEqualTo(1);
        assertAReadWorks();
        awaitTrue("the next completion interrupts", () -> msi.delivered.size() == 1);
    }

    @Test
    void anUnexpectedExceptionWhileCompletingFailsThePortNotTheWorker() {
        MemoryBlockBackend disk = new MemoryBlockBackend(1 << 20, false);
        FaultingGuestMemory[] memory = new FaultingGuestMemory[1];
        try (AhciTestDriver faulty = new AhciTestDriver(m -> new RewiredMachine(m, memory[0] = new FaultingGuestMemory(m.memory()), m.msi()),
                new AtaDisk("disk", disk, AhciDriveOptions.parse(DriveKind.HD, "d.img")))) {
            faulty.resetAndStart(true);
            // The Set Device Bits FIS that completes a queued command lands where guest RAM has gone away.
            long sdb = AhciTestDriver.fisArea(0) + RFIS_SDB;
            memory[0].failWrites(gpa -> gpa == sdb);
            faulty.prepare(0, 0, commandFis(READ_FPDMA, 2, 2, 0, LBA), null, false, List.of(new AhciTestDriver.Prd(DATA, 1024)));
            faulty.port(0, P_SACT, 1);
            faulty.issueAndWait(0, 1);
            assertThat(faulty.port(0, P_IS) & IS_IFS).as("an interface fatal error").isEqualTo(IS_IFS);
            assertThat(faulty.hba.port(0).guestErrors()).as("the fault is counted").isEqualTo(1);

            memory[0].failWrites(gpa -> false);
            faulty.restartEngine(0);
            assertThat(faulty.run(0, commandFis(READ_DMA_EXT, 0, 2, 2, LBA), null, false, 1024)).as("the same worker serves on").isEqualTo(0x50);
        }
    }

    @Test
    void aWorkerKilledByAnErrorIsReplacedByAnHbaReset() {
        msi.failure = () -> new StackOverflowError("from the interrupt sink");
        msi.failuresLeft.set(1);
        driver.port(0, P_IS, -1);
        driver.prepare(0, 0, commandFis(READ_DMA_EXT, 0, 2, 2, LBA), null, false, List.of(new AhciTestDriver.Prd(DATA, 1024)));
        driver.issue(0, 0);
        awaitTrue("the worker tried to interrupt", () -> msi.attempts.get() == 1);
        awaitTrue("the worker died", () -> AhciWorkerTest.workers("jhyve-ahci-ahci-test-p0") == 0);

        driver.resetAndStart(true);
        assertThat(driver.read(GHC) & GHC_HR).isZero();
        assertAReadWorks();
        awaitTrue("the new worker interrupts", () -> msi.delivered.size() == 1);
    }

    @Test
    void aWorkerKilledByAnErrorIsReplacedByAComreset() {
        msi.failure = () -> new StackOverflowError("from the interrupt sink");
        msi.failuresLeft.set(1);
        driver.port(0, P_IS, -1);
        driver.prepare(0, 0, commandFis(READ_DMA_EXT, 0, 2, 2, LBA), null, false, List.of(new AhciTestDriver.Prd(DATA, 1024)));
        driver.issue(0, 0);
        awaitTrue("the worker died", () -> AhciWorkerTest.workers("jhyve-ahci-ahci-test-p0") == 0);

        driver.startPort(0, true); // engine off, COMRESET, engine on: libata's hard reset
        assertAReadWorks();
        awaitTrue("the new worker interrupts", () -> msi.delivered.size() == 1);
    }
}

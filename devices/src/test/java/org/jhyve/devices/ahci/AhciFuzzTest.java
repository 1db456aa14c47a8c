package org.jhyve.devices.ahci;

import static org.jhyve.devices.ahci.AhciRegisters.*;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jhyve.devices.fuzz.CheckingBlockBackend;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Deadline;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMachine;
import org.jhyve.fuzz.FuzzMemory;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciFunction;
import org.slf4j.event.Level;

/**
 * Fuzz target for the AHCI HBA (docs/reliability.md): a guest's program of ABAR register writes, PCI
 * configuration writes (bus mastering, MSI), port start-ups, command issues (PxCI, PxSACT for NCQ) and HBA
 * resets, against command lists, received-FIS areas, command tables, FISes and PRD tables in a RAM image the
 * input gives; the HBA's own port workers run the commands, on one or two ports (an ATA disk, an ATAPI
 * CD-ROM), and the MSI sink may fail as KVM's does for a message no vCPU accepts.
 *
 * <p>Input: [0] flags (bit 0 two ports, disk and CD-ROM, else bit 1 picks a CD-ROM; bit 2 every MSI fails;
 * bit 3 a read-only disk; bits 4-7 an I/O error every n-th backend operation), [1] how many operations (mod
 * 32), then 6 bytes each (operation, selector, a 32-bit value; see {@link #apply}), then the image of guest RAM
 * from address 0. Port p's command list is at 0x400 + 0x400p, its received-FIS area at 0xc00 + 0x100p.
 *
 * <p>Documented exceptions: none reach the vCPU (MMIO and config writes) and none end a worker. Asserted:
 * commands issued to a started port with its link up either complete or the port shows an error in PxIS
 * (unless the guest cleared PxIS or moved ST by hand since it started the port: a halted port then rightly
 * waits for ST to be cleared); the workers settle within the input's time budget; no internal error (a contained device-model fault, IFS
 * with a logged exception) and no other error line; the backend contract holds (ranges inside the disk, no
 * writes to a read-only medium, buffers in guest RAM); accesses outside RAM are refused (the HBA's documented
 * check: they become HBFS); closing the HBA ends its workers.
 */
class AhciFuzzTest {
    static final int GSI = 21;
    static final int IS_ERRORS = IS_TFES | IS_HBFS | IS_HBDS | IS_IFS | IS_INFS | IS_OFS;
    private static final Duration SETTLE = Duration.ofSeconds(2);
    private static final PciAddress ADDRESS = new PciAddress(0, 5, 0);
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.REFUSED, new Findings("ahci"), AtaFuzzing.BUDGET,
            0, AtaFuzzing.LOW, AtaFuzzing.HIGH_BASE, AtaFuzzing.HIGH);

    @FuzzTest(maxDuration = "10s")
    void commands(byte[] input) throws Exception {
        Findings findings = new Findings("ahci");
        FuzzMemory memory = MEMORY;
        memory.arm(findings, AtaFuzzing.BUDGET);
        int ops = input.length > 1 ? (input[1] & 0xff) % 32 : 0;
        int imageAt = 2 + 6 * ops;
        byte[] in = Arrays.copyOf(input, Math.max(input.length, imageAt));
        int flags = in[0] & 0xff;
        boolean msiFails = (flags & 4) != 0;
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> !FuzzMachine.injected(e) && (e.thrown() != null || e.level() == Level.ERROR));
             FuzzMachine machine = new FuzzMachine(memory, n -> msiFails)) {
            memory.load(Arrays.copyOfRange(in, imageAt, in.length));
            int failEvery = flags >>> 4;
            List<SataDevice> devices = new ArrayList<>();
            boolean two = (flags & 1) != 0;
            if (two || (flags & 2) == 0) {
                devices.add(new AtaDisk("fuzz-disk", new CheckingBlockBackend(64 * 1024, (flags & 8) != 0, memory, findings,
                        n -> failEvery != 0 && n % failEvery == failEvery - 1), AhciDriveOptions.parse(DriveKind.HD, "fuzz.img")));
            }
            if (two || (flags & 2) != 0) {
                devices.add(new AtapiCdrom("fuzz-cd", new CheckingBlockBackend(16 * 2048, true, memory, findings, n -> false),
                        AhciDriveOptions.parse(DriveKind.CD, "fuzz.iso")));
            }
            AhciHba hba = new AhciHba("fuzz-ahci", devices, machine, machine.irq(GSI), GSI);
            machine.pci().add(ADDRESS, hba);
            Guest guest = new Guest(hba, machine, findings);
            guest.cfg(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
            try {
                for (int i = 0; i < ops; i++) {
                    int at = 2 + 6 * i;
                    int value = (in[at + 2] & 0xff) | (in[at + 3] & 0xff) << 8 | (in[at + 4] & 0xff) << 16 | (in[at + 5] & 0xff) << 24;
                    apply(guest, in[at] & 0xff, in[at + 1] & 0xff, value);
                }
                guest.settleAll();
                guest.checkIssuedCommandsEnded();
            } finally {
                hba.close();
            }
        } finally {
            findings.throwIfAny();
        }
    }

    /**
     * One guest operation: 0 a port register write (selector bit 7 the port, bits 0-4 the dword), 1 a global
     * register write, 2 a port started as Linux's ahci driver does (value: PxIE), 3 an issue of PxCI = value and a
     * wait for the worker, 4 a configuration write (command register or MSI capability), 5 a wait for every
     * worker, 6 NCQ: PxSACT and PxCI = value, and a wait, 7 GHC.HR.
     */
    static void apply(Guest g, int op, int selector, int value) {
        int port = (selector >>> 7) % g.hba.portCount();
        switch (op % 8) {
            case 0 -> {
                int register = (selector & 0x1f) * 4;
                // Clearing PxIS, or moving ST or the link by hand, can leave the port halted with no error showing.
                if (register == P_IS || register == P_CMD || register == P_SCTL) g.unclean(port);
                g.port(port, register, value);
            }
            case 1 -> {
                int register = new int[] {CAP, GHC, IS, PI, VS, CAP2}[selector % 6];
                if (register == GHC) g.uncleanAll();
                g.write(register, value);
            }
            case 2 -> g.start(port, value);
            case 3 -> g.issue(port, value, 0);
            case 4 -> {
                int msi = g.hba.msiCapability();
                int[] offsets = {PciFunction.COMMAND, msi + AhciHba.MSI_CONTROL, msi + AhciHba.MSI_ADDRESS, msi + AhciHba.MSI_ADDRESS_HIGH, msi + AhciHba.MSI_DATA};
                g.cfg(offsets[selector % offsets.length], (selector & 0x80) != 0 ? 4 : 2, value);
            }
            case 5 -> g.settleAll();
            case 6 -> g.issue(port, value, value);
            default -> {
                g.uncleanAll();
                g.write(GHC, GHC_AE | GHC_HR);
            }
        }
    }

    /** The guest side: registers through the machine's buses, as a driver reaches them. */

    static final class Guest {
        final AhciHba hba;
        final FuzzMachine machine;
        final Findings findings;
        final long abar;
        /** Per port: the slots of the last issue. */
        final int[] issued;
        /**
         * Per port: started by {@link #start} and since then no PxIS, PxCMD or PxSCTL write by hand and no HBA reset,
         * so that an error the port reported still shows in PxIS. Only then is a pending command a finding.
         */
        final boolean[] clean;

        Guest(AhciHba hba, FuzzMachine machine, Findings findings) {
            this.hba = hba;
            this.machine = machine;
            this.findings = findings;
            this.abar = hba.barAddress(AhciHba.ABAR_INDEX);
            this.issued = new int[hba.portCount()];
            this.clean = new boolean[hba.portCount()];
        }

        void cfg(int offset, int size, int value) { machine.pci().configWrite(0, ADDRESS.slot(), 0, offset, size, value); }

        int read(int offset) { return (int) machine.mmio().read(abar + offset, 4); }

        void write(int offset, int value) { machine.mmio().write(abar + offset, 4, value & 0xffff_ffffL); }

        int port(int p, int register) { return read(PORT_BASE + PORT_STRIDE * p + register); }

        void port(int p, int register, int value) { write(PORT_BASE + PORT_STRIDE * p + register, value); }

        void unclean(int p) { clean[p] = false; }

        void uncleanAll() { Arrays.fill(clean, false); }

        void start(int p, int interruptEnable) {
            port(p, P_CMD, 0);
            port(p, P_CLB, 0x400 + 0x400 * p);
            port(p, P_CLBU, 0);
            port(p, P_FB, 0xc00 + 0x100 * p);
            port(p, P_FBU, 0);
            port(p, P_CMD, CMD_FRE);
            port(p, P_SERR, -1);
            port(p, P_IS, -1);
            port(p, P_IE, interruptEnable);
            port(p, P_SCTL, 0x301);
            port(p, P_SCTL, 0x300);
            port(p, P_CMD, CMD_FRE | CMD_ST);
            write(GHC, GHC_AE | GHC_IE);
            clean[p] = true;
            issued[p] = 0;
        }

        void issue(int p, int slots, int active) {
            if (active != 0) port(p, P_SACT, active);
            port(p, P_CI, slots);
            issued[p] = slots;
            settle(p);
        }

        void settle(int p) {
            Deadline.in(SETTLE).await(() -> hba.quiescent(p), findings, "port " + p + "'s worker settling");
        }

        void settleAll() {
            for (int p = 0; p < hba.portCount(); p++) settle(p);
        }

        /** The slots of port {@code p}'s command list that hold an NCQ command (read as the HBA reads them). */
        int queuedSlots(int p) {
            long list = (port(p, P_CLB) & 0xffff_ffffL) | (long) port(p, P_CLBU) << 32;
            int slots = 0;
            for (int s = 0; s < SLOTS; s++) {
                long header = list + (long) COMMAND_HEADER_SIZE * s;
                if (!machine.fuzzMemory().raw().isValid(header, COMMAND_HEADER_SIZE)) continue;
                long table = (machine.fuzzMemory().raw().readInt(header + 8) & 0xffff_ff80L) | (machine.fuzzMemory().raw().readInt(header + 12) & 0xffff_ffffL) << 32;
                if (!machine.fuzzMemory().raw().isValid(table, CommandFis.LENGTH)) continue;
                CommandFis fis = CommandFis.parse(machine.fuzzMemory().raw().readBytes(table, CommandFis.LENGTH));
                if (fis.command() && (fis.opcode() == AtaOpcodes.READ_FPDMA_QUEUED || fis.opcode() == AtaOpcodes.WRITE_FPDMA_QUEUED)) slots |= 1 << s;
            }
            return slots;
        }

        /**
         * Commands issued last to a started port with its link up have ended: completed, or failed with PxIS saying
         * so (checked on ports whose PxIS the guest has not cleared since it started them, see {@link #clean}).
         */
        void checkIssuedCommandsEnded() {
            for (int p = 0; p < hba.portCount(); p++) {
                if (issued[p] == 0 || !clean[p]) continue;
                boolean running = (port(p, P_CMD) & CMD_ST) != 0 && (port(p, P_SSTS) & DET_MASK) == DET_PRESENT_PHY_UP;
                // PxSACT counts only for NCQ commands: the guest may set it for others too, and then it stays set.
                int pending = (port(p, P_CI) | port(p, P_SACT) & queuedSlots(p)) & issued[p];
                if (running && pending != 0 && (port(p, P_IS) & IS_ERRORS) == 0) {
                    findings.add(String.format("port %d: slots 0x%08x issued, 0x%08x neither completed nor failed (PxIS 0x%08x, PxTFD 0x%04x)",
                            p, issued[p], pending, port(p, P_IS), port(p, P_TFD)));
                }
            }
        }
    }
}

package org.jhyve.devices.ahci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.ahci.AhciRegisters.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.jhyve.memory.GuestMemory;
import org.jhyve.pci.PciAddress;
import org.jhyve.pci.PciFunction;
import org.jhyve.testing.TestMachine;
import org.jhyve.vm.MachineContext;

/**
 * The guest's side of an AHCI HBA for tests, doing what Linux's ahci driver does: config space and ABAR
 * registers through the PCI bus and MMIO bus of a {@link TestMachine}, command lists, tables and PRDs built in
 * its heap guest memory. Guest memory map, per port p: command list at 0x10000 + 0x1000p, received FIS at
 * 0x30000 + 0x100p, command tables at 0x40000 + 0x20000p + 0x1000 * slot; data from 0x200000 up.
 *
 * <p>Commands run on the ports' worker threads, so after issuing, the driver polls as a real one does: until
 * the issued PxCI and PxSACT bits clear or PxIS shows an error, failing the test after {@link #TIMEOUT_MS}.
 */
final class AhciTestDriver implements AutoCloseable {
    static final PciAddress ADDRESS = new PciAddress(0, 5, 0);
    static final int GSI = 21;
    static final long DATA = 0x20_0000;
    static final long TIMEOUT_MS = 5000;
    /** The PxIS bits that end a command in error: the port halts. */
    static final int IS_ERRORS = IS_TFES | IS_HBFS | IS_HBDS | IS_IFS | IS_INFS | IS_OFS;

    /** One PRD entry as the guest writes it: buffer address and byte count (DBC is count - 1). */
    record Prd(long address, int length) {}

    final TestMachine machine = new TestMachine(16L << 20);
    final GuestMemory memory;
    final AhciHba hba;
    final long abar;

    AhciTestDriver(SataDevice... devices) {
        this(machine -> machine, devices);
    }

    /**
     * The HBA plugged into {@code rewire(machine)}: the test machine with other guest memory or MSI delivery
     * (see {@link org.jhyve.devices.testing.RewiredMachine}); the driver then uses that memory too.
     */
    AhciTestDriver(Function<TestMachine, MachineContext> rewire, SataDevice... devices) {
        MachineContext context = rewire.apply(machine);
        memory = context.memory();
        hba = new AhciHba("ahci-test", List.of(devices), context, machine.irq(GSI), GSI);
        machine.pci().add(ADDRESS, hba);
        abar = hba.barAddress(AhciHba.ABAR_INDEX);
        cfgWrite(PciFunction.COMMAND, 2, PciFunction.COMMAND_MEMORY | PciFunction.COMMAND_BUS_MASTER);
    }

    static long commandList(int port) { return 0x10000 + 0x1000L * port; }

    static long fisArea(int port) { return 0x30000 + 0x100L * port; }

    static long table(int port, int slot) { return 0x40000 + 0x20000L * port + 0x1000L * slot; }

    int cfgRead(int offset, int size) { return machine.pci().configRead(0, ADDRESS.slot(), 0, offset, size); }

    void cfgWrite(int offset, int size, int value) { machine.pci().configWrite(0, ADDRESS.slot(), 0, offset, size, value); }

    int read(int offset) { return (int) machine.mmio().read(abar + offset, 4); }

    void write(int offset, int value) { machine.mmio().write(abar + offset, 4, value & 0xffff_ffffL); }

    int port(int port, int register) { return read(PORT_BASE + PORT_STRIDE * port + register); }

    void port(int port, int register, int value) { write(PORT_BASE + PORT_STRIDE * port + register, value); }

    /** Linux's ahci_reset_controller and ahci_init_controller, then each port started as ahci_port_start does. */
    void resetAndStart(boolean interrupts) {
        write(GHC, GHC_AE | GHC_HR);
        awaitTrue("HR self-clears", () -> (read(GHC) & GHC_HR) == 0);
        write(GHC, GHC_AE);
        for (int p = 0; p < hba.portCount(); p++) startPort(p, interrupts);
        if (interrupts) write(GHC, GHC_AE | GHC_IE);
    }

    void startPort(int p, boolean interrupts) {
        port(p, P_CMD, 0);                                  // stop engine and FIS reception
        port(p, P_CLB, (int) commandList(p));
        port(p, P_CLBU, 0);
        port(p, P_FB, (int) fisArea(p));
        port(p, P_FBU, 0);
        port(p, P_CMD, CMD_FRE);
        port(p, P_SERR, -1);
        port(p, P_IS, -1);
        write(IS, 1 << p);
        if (interrupts) port(p, P_IE, IS_DHRS | IS_PSS | IS_DSS | IS_SDBS | IS_UFS | IS_DPS | IS_TFES | IS_HBFS | IS_HBDS | IS_IFS);
        // Hard reset, as libata's sata_link_hardreset: DET=1, then DET=0 (and IPM transitions disabled).
        port(p, P_SCTL, 0x301);
        port(p, P_SCTL, 0x300);
        port(p, P_CMD, CMD_FRE | CMD_ST);
    }

    /** A register H2D command FIS (20 bytes used of 64). */
    static byte[] commandFis(int command, int features, long lba, int count, int device) {
        byte[] f = new byte[64];
        f[0] = 0x27;
        f[1] = (byte) 0x80;
        f[2] = (byte) command;
        f[3] = (byte) features;
        f[4] = (byte) lba;
        f[5] = (byte) (lba >>> 8);
        f[6] = (byte) (lba >>> 16);
        f[7] = (byte) device;
        f[8] = (byte) (lba >>> 24);
        f[9] = (byte) (lba >>> 32);
        f[10] = (byte) (lba >>> 40);
        f[11] = (byte) (features >>> 8);
        f[12] = (byte) count;
        f[13] = (byte) (count >>> 8);
        return f;
    }

    /** Writes slot {@code slot}'s command header, FIS, ATAPI packet (if any) and PRD table; does not issue it. */
    void prepare(int p, int slot, byte[] fis, byte[] packet, boolean write, List<Prd> prds) {
        long table = table(p, slot);
        memory.fill(table, 0x1000, (byte) 0);
        memory.write(table, fis);
        if (packet != null) memory.write(table + TABLE_ACMD, packet);
        for (int i = 0; i < prds.size(); i++) {
            long e = table + TABLE_PRDT + 16L * i;
            memory.writeLong(e, prds.get(i).address());
            memory.writeInt(e + 12, prds.get(i).length() - 1);
        }
        header(p, slot, 5 | (packet != null ? 1 << 5 : 0) | (write ? 1 << 6 : 0) | prds.size() << 16, table);
    }

    /** Writes a raw command header: DW0 (flags and PRDTL), PRDBC cleared, CTBA. */
    void header(int p, int slot, int dw0, long table) {
        long h = commandList(p) + 32L * slot;
        memory.writeInt(h, dw0);
        memory.writeInt(h + 4, 0x7777_7777); // the HBA overwrites PRDBC
        memory.writeLong(h + 8, table);
    }

    /** Issues the slot, waits for it to end, and returns PxTFD afterwards. */
    int issue(int p, int slot) {
        issueAndWait(p, 1 << slot);
        return port(p, P_TFD);
    }

    /** Writes {@code slots} to PxCI and polls until their PxCI and PxSACT bits clear or PxIS has an error bit. */
    void issueAndWait(int p, int slots) {
        port(p, P_CI, slots);
        awaitTrue("slots 0x" + Integer.toHexString(slots) + " of port " + p + " end",
                () -> (port(p, P_IS) & IS_ERRORS) != 0 || ((port(p, P_CI) | port(p, P_SACT)) & slots) == 0);
    }

    /** Waits until the port's worker has seen every PxCI write and has nothing to run (a test-only view). */
    void settle(int p) {
        awaitTrue("port " + p + " idle", () -> hba.quiescent(p));
    }

    /** Polls {@code condition} until it holds, failing after {@link #TIMEOUT_MS}. */
    static void awaitTrue(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** A whole non-queued command with one data buffer at {@link #DATA}: prepare and issue. */
    int run(int p, byte[] fis, byte[] packet, boolean write, int dataLength) {
        prepare(p, 0, fis, packet, write, dataLength > 0 ? List.of(new Prd(DATA, dataLength)) : List.of());
        return issue(p, 0);
    }

    int prdbc(int p, int slot) {
        return memory.readInt(commandList(p) + 32L * slot + 4);
    }

    byte[] receivedFis(int p, int offset, int length) {
        return memory.readBytes(fisArea(p) + offset, length);
    }

    /** Clears PxIS and IS as an interrupt handler does. */
    void acknowledge(int p) {
        port(p, P_IS, port(p, P_IS));
        write(IS, read(IS));
    }

    /** Restarts the port's engine after an error, as libata's EH does (ST off, then on). */
    void restartEngine(int p) {
        port(p, P_CMD, CMD_FRE);
        port(p, P_IS, -1);
        port(p, P_CMD, CMD_FRE | CMD_ST);
    }

    static int word(byte[] identify, int word) {
        return ByteBuffer.wrap(identify).order(ByteOrder.LITTLE_ENDIAN).getShort(2 * word) & 0xffff;
    }

    /** An ATA string of IDENTIFY data, decoded (each word's high byte first) and trimmed. */
    static String ataString(byte[] identify, int word, int words) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < words; i++) {
            int w = word(identify, word + i);
            s.append((char) (w >>> 8)).append((char) (w & 0xff));
        }
        return s.toString().trim();
    }

    @Override
    public void close() {
        hba.close();
    }
}

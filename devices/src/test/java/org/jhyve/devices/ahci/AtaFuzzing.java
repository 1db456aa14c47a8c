package org.jhyve.devices.ahci;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.jhyve.devices.block.BlockBackend;
import org.jhyve.devices.fuzz.CheckingBlockBackend;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;
import org.jhyve.fuzz.StepBudgetExceeded;

/**
 * The ATA and ATAPI command targets' shared harness: a sequence of commands, each a register H2D FIS, an ATAPI
 * packet and a PRD table in guest RAM, run one after the other on one device, as its port worker runs them.
 *
 * <p>Input: [0] how many commands (1 + n mod 4), [1] flags (bit 0 a read-only medium, bit 1 4096-byte logical
 * sectors, bits 4-7 an I/O error every n-th backend operation), then per command 40 bytes (the 20-byte FIS, the
 * 16-byte packet, the PRD table's length in entries and its guest address / 16, both little-endian u16), then
 * the image of guest RAM from address 0.
 */
final class AtaFuzzing {
    static final int COMMAND_BYTES = 40;
    static final long LOW = 0x10000, HIGH_BASE = 0x20000, HIGH = 0x10000, BUDGET = 1_000_000;

    private AtaFuzzing() {}

    /** One command as the port hands it over, before the PRD table is bound to memory. */
    record Command(byte[] fis, byte[] packet, int prdtLength, long prdtAddress) {}

    record Input(List<Command> commands, boolean readOnly, boolean bigSectors, int failEvery, byte[] image) {
        static Input of(byte[] in) {
            byte[] b = Arrays.copyOf(in, Math.max(in.length, 2));
            int count = 1 + (b[0] & 0xff) % 4;
            int flags = b[1] & 0xff;
            List<Command> commands = new ArrayList<>();
            int at = 2;
            for (int i = 0; i < count; i++, at += COMMAND_BYTES) {
                byte[] c = Arrays.copyOfRange(b, Math.min(at, b.length), Math.min(at + COMMAND_BYTES, b.length));
                c = Arrays.copyOf(c, COMMAND_BYTES);
                commands.add(new Command(Arrays.copyOf(c, CommandFis.LENGTH), Arrays.copyOfRange(c, 20, 36),
                        (c[36] & 0xff) | (c[37] & 0xff) << 8, 16L * ((c[38] & 0xff) | (c[39] & 0xff) << 8)));
            }
            byte[] image = at < b.length ? Arrays.copyOfRange(b, at, b.length) : new byte[0];
            return new Input(commands, (flags & 1) != 0, (flags & 2) != 0, flags >>> 4, image);
        }
    }

    /**
     * Runs the input's commands on the device {@code make} builds over a checking backend. Documented: a
     * {@link DmaFault} (the port turns it into HBFS or OFS/IFS). Anything else escaping is a finding, as is a
     * completion with a negative byte count, an access the backend contract forbids, or a warn/error line
     * carrying an exception.
     */
    static void run(byte[] in, FuzzMemory memory, String target, int diskBytes, boolean cdrom, Function<BlockBackend, SataDevice> make) {
        Findings findings = new Findings(target);
        memory.arm(findings, BUDGET);
        Input input = Input.of(in);
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> e.thrown() != null)) {
            memory.load(input.image());
            int failEvery = input.failEvery();
            CheckingBlockBackend backend = new CheckingBlockBackend(diskBytes, input.readOnly() || cdrom, memory, findings,
                    n -> failEvery != 0 && n % failEvery == failEvery - 1);
            SataDevice device = make.apply(backend);
            for (Command c : input.commands()) {
                AtaCommand command = new AtaCommand(CommandFis.parse(c.fis()), c.packet(), new PrdTable(memory, c.prdtAddress(), c.prdtLength()));
                try {
                    Completion done = device.execute(command);
                    if (done == null) findings.add("no completion for command 0x" + Integer.toHexString(command.fis().opcode()));
                    else if (done.transferred() < 0) findings.add("completion of command 0x" + Integer.toHexString(command.fis().opcode()) + " moved " + done.transferred() + " bytes");
                } catch (DmaFault f) {
                    // Documented: the port reports it (HBFS, or OFS and IFS).
                }
            }
        } catch (StepBudgetExceeded e) {
            // Recorded by the memory.
        } finally {
            findings.throwIfAny();
        }
    }
}

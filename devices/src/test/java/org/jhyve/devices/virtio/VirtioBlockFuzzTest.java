package org.jhyve.devices.virtio;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.jhyve.devices.fuzz.CheckingBlockBackend;
import org.jhyve.fuzz.CapturedLogs;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;

/**
 * Fuzz target for virtio-blk requests through a split virtqueue (docs/reliability.md). The input is the queue's
 * setup (size, ring addresses, indirect and event-index features; {@link VirtqueueFuzzing.Setup}: flag bit 4 a
 * read-only disk, byte 2 an I/O error every n-th backend operation, byte 3 the sector-size and serial options)
 * and an image of guest RAM holding descriptor table, rings, indirect tables, headers and data. The harness does what
 * the queue worker does, on one thread: {@link SplitQueue#pop} each chain, {@link VirtioBlock#handle} it,
 * {@link SplitQueue#addUsed} it, then the notification calls.
 *
 * <p>Documented exception: {@link VirtqueueException} from the queue (the driver broke the ring; the worker then
 * sets DEVICE_NEEDS_RESET). Asserted: every chain taken gets a used entry (handle returns; nothing else
 * escapes); the used length never exceeds the chain's writable bytes; a request with a header and a status
 * byte gets status OK, IOERR or UNSUPP; no access outside guest RAM (the queue checked every buffer); the disk
 * backend sees only ranges inside the disk and buffers inside guest RAM; no warn/error line with an exception
 * (a contained device fault); the step budget holds.
 */
class VirtioBlockFuzzTest {
    static final long LOW = 0x10000, HIGH_BASE = 0x20000, HIGH = 0x10000;
    static final long BUDGET = 1_000_000;
    static final int DISK = 32 * 1024;
    private static final String[] OPTIONS = {"", ",sectorsize=4096", ",sectorsize=512/4096", ",serial=fuzz-serial-01234"};
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.FINDING, new Findings("virtio-blk"), BUDGET,
            0, LOW, HIGH_BASE, HIGH);

    @FuzzTest(maxDuration = "10s")
    void requests(byte[] input) {
        Findings findings = new Findings("virtio-blk");
        FuzzMemory memory = MEMORY;
        memory.arm(findings, BUDGET);
        try (CapturedLogs ignored = CapturedLogs.open(findings, e -> e.thrown() != null)) {
            VirtqueueFuzzing.Setup setup = VirtqueueFuzzing.Setup.of(input);
            boolean readOnly = setup.flag(4);
            int failEvery = setup.a() % 9;
            String options = OPTIONS[setup.b() % OPTIONS.length];
            memory.load(setup.image());
            CheckingBlockBackend backend = new CheckingBlockBackend(DISK, readOnly, memory, findings,
                    n -> failEvery != 0 && n % failEvery == failEvery - 1);
            VirtioBlock blk = new VirtioBlock("fuzz-blk", backend, VirtioBlockOptions.parse("fuzz.img" + options));
            VirtqueueFuzzing.serve(memory, setup.layout(), setup.eventIdx(), setup.indirect(), findings, chain -> {
                int written = blk.handle(chain);
                if (chain.readable().length() >= 16 && chain.writable().length() >= 1) {
                    int status = VirtqueueFuzzing.lastWritableByte(memory, chain);
                    findings.check(status == VirtioBlock.S_OK || status == VirtioBlock.S_IOERR || status == VirtioBlock.S_UNSUPP,
                            "request at head " + chain.head() + " completed with status byte " + status);
                }
                return written;
            });
        } finally {
            findings.throwIfAny();
        }
    }
}

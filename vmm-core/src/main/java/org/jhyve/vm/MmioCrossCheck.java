package org.jhyve.vm;

import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.hv.Vcpu;
import org.jhyve.hv.VmExit;
import org.jhyve.memory.GuestMemory;
import org.jhyve.x86.MmioDescription;
import org.jhyve.x86.MmioInstructionEmulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MMIO cross-check ({@link VmBuilder#mmioCrossCheck}): every MMIO exit the hypervisor decoded itself is decoded
 * again by jhyve's own instruction emulator, the one a hypervisor that reports only the faulting address
 * (Hypervisor.framework) relies on, and the two are compared: address, length, direction and, for a write, the data.
 * A mismatch is a bug in one of the two decoders; each is logged (the first 20 in full) and counted, and the VM's end
 * logs the totals.
 *
 * <p>Where the instruction is: KVM exits for an MMIO read with RIP on the instruction (it completes it with the data
 * on the next run), but for a write only after completing it, RIP already past it. For a write the check therefore
 * looks for the instruction that ends at RIP: it decodes from each of the 15 bytes before RIP and takes a start whose
 * instruction is exactly that long and makes the reported access. That proves less than for reads (and misses
 * instructions that moved their own address registers: PUSH, STOS, MOVS, whose registers are already advanced), and
 * a write none of the starts explains is counted as a mismatch like any other.
 *
 * <p>What the hypervisor reports that jhyve's emulator knows it cannot match exactly is not a mismatch: the write half
 * of a read-modify-write (ADD to MMIO and the like: its value depends on what the device returned), compared on
 * address and length only.
 *
 * <p>Threading rules: {@link #check} on the exiting vCPU's thread, concurrently for different vCPUs; the counters are
 * atomic. Costs two register reads and a decode per MMIO exit: a debugging mode, off by default.
 */
final class MmioCrossCheck {
    private static final Logger log = LoggerFactory.getLogger(MmioCrossCheck.class);
    private static final int LOGGED_IN_FULL = 20;

    private final MmioInstructionEmulator emulator = new MmioInstructionEmulator();
    private final AtomicLong compared = new AtomicLong();
    private final AtomicLong mismatches = new AtomicLong();
    private final AtomicLong undecoded = new AtomicLong();

    /** Compares the exit {@code exit} of {@code vcpu}, before any device has seen it. */
    void check(Vcpu vcpu, GuestMemory memory, VmExit.Mmio exit) {
        Registers regs = vcpu.getRegisters();
        SpecialRegisters sregs = vcpu.getSpecialRegisters();
        compared.incrementAndGet();
        String problem = exit.write() ? checkWrite(vcpu, memory, exit, regs, sregs) : problem(
                emulator.describe(regs, sregs, vcpu::translate, memory, exit.address()), exit);
        if (problem == null) return;
        long n = mismatches.incrementAndGet();
        if (n <= LOGGED_IN_FULL) {
            log.warn("MMIO cross-check mismatch on vCPU {} at RIP 0x{}: the hypervisor reported {} of {} bytes at 0x{}{}; {}",
                    vcpu.index(), Long.toHexString(regs.rip()), exit.write() ? "a write" : "a read", exit.length(),
                    Long.toHexString(exit.address()), exit.write() ? " (data 0x" + Long.toHexString(exit.value()) + ")" : "",
                    problem);
        } else if (Long.bitCount(n) == 1) {
            log.warn("MMIO cross-check: {} mismatches so far (only the first {} logged in full)", n, LOGGED_IN_FULL);
        }
    }

    private String problem(MmioDescription d, VmExit.Mmio exit) {
        return switch (d) {
            case MmioDescription.NoAccess n -> {
                undecoded.incrementAndGet();
                yield "jhyve finds no access: " + n.why();
            }
            case MmioDescription.Access a -> mismatch(a, exit);
        };
    }

    /** A write: RIP is past the instruction; some start in the 15 bytes before it must decode to this very write. */
    private String checkWrite(Vcpu vcpu, GuestMemory memory, VmExit.Mmio exit, Registers regs, SpecialRegisters sregs) {
        String first = null;
        for (int length = 1; length <= MAX_INSTRUCTION_LENGTH; length++) {
            Registers before = regs.withRip(regs.rip() - length);
            MmioDescription d = emulator.describeInstruction(before, sregs, vcpu::translate, memory, exit.address(), length);
            if (d == null) continue; // no instruction of that length starts there
            String problem = d instanceof MmioDescription.Access a ? mismatch(a, exit) : "jhyve finds no access: "
                    + ((MmioDescription.NoAccess) d).why();
            if (problem == null) return null;
            if (first == null) first = "from " + length + " bytes before RIP " + problem;
        }
        undecoded.incrementAndGet();
        return first != null ? first : "no instruction of 1-15 bytes ends at RIP";
    }

    private static final int MAX_INSTRUCTION_LENGTH = 15;

    private static String mismatch(MmioDescription.Access a, VmExit.Mmio exit) {
        if (a.gpa() != exit.address()) return String.format("jhyve decodes address 0x%x", a.gpa());
        if (a.size() != exit.length()) return "jhyve decodes " + a.size() + " bytes";
        boolean rmw = a.direction() == MmioDescription.Direction.READ_MODIFY_WRITE;
        if (rmw) return null; // the read, or the write whose value only the device's answer decides
        boolean write = a.direction() == MmioDescription.Direction.WRITE;
        if (write != exit.write()) return "jhyve decodes " + (write ? "a write" : "a read");
        if (write) {
            long mask = exit.length() == 8 ? -1L : (1L << (8 * exit.length())) - 1;
            long expected = a.value().orElseThrow() & mask;
            long reported = exit.value();
            if (expected != reported) return String.format("jhyve decodes data 0x%x", expected);
        }
        return null;
    }

    /** Logs {@link #summary()} at info (the CLI shows this logger's info lines: the check was asked for). */
    void logSummary() {
        log.info(summary());
    }

    /** "MMIO cross-check: 1234 exits compared, 0 mismatches (0 jhyve could not decode)". */
    String summary() {
        return String.format("MMIO cross-check: %d exits compared, %d mismatches (%d jhyve could not decode)",
                compared.get(), mismatches.get(), undecoded.get());
    }
}

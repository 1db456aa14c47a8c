package org.jhyve.fuzz;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jhyve.memory.GuestMemory;
import org.jhyve.memory.GuestMemoryException;
import org.jhyve.memory.MemoryRegion;
import org.jhyve.memory.SegmentGuestMemory;

/**
 * Guest memory for fuzz targets: a few small RAM regions (with holes between them, so that ranges straddling
 * two regions and ranges in a hole are reachable), every access counted against a step budget, and every
 * access outside guest RAM recorded.
 *
 * <p>What an access outside RAM means depends on the code under test, so each target says which rule it is
 * held to ({@link OutsideRam}): code that checks every guest range before use (virtqueues, loaders, the x86
 * instruction fallback) must never make one, and it is a finding; code whose documented check is this
 * memory's own refusal (the AHCI HBA turns a {@link GuestMemoryException} into a host-bus fatal error) may,
 * and it is only counted. Either way the access is refused and no host memory outside the regions is touched.
 *
 * <p>The budget counts one step per call and one more per 4 KiB moved: an input that runs out of it is a
 * finding (the code loops on guest data), and {@link StepBudgetExceeded} is thrown to stop it.
 *
 * <p>Thread-safe: device workers and the harness access it concurrently. {@link #raw()} is the same memory
 * without counting, for the harness to lay out and inspect guest structures.
 */
public final class FuzzMemory implements GuestMemory {
    /** What an access outside guest RAM is for the code under test. */
    public enum OutsideRam {
        /** A bug: the code promised to check guest ranges before using them. */
        FINDING,
        /** The code's documented way of finding out; only counted. */
        REFUSED
    }

    private static final int PAGE = 4096;

    private final SegmentGuestMemory ram;
    private final OutsideRam rule;
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private volatile Findings findings;
    private volatile long budget;
    private volatile boolean exhausted;

    private FuzzMemory(List<MemoryRegion> regions, OutsideRam rule) {
        this.ram = new SegmentGuestMemory(regions);
        this.rule = rule;
    }

    /**
     * Memory of regions given as {@code base, size} pairs (bytes), zeroed.
     *
     * @param findings where violations go for the current input ({@link #arm} changes it for the next one)
     */
    public static FuzzMemory of(OutsideRam rule, Findings findings, long stepBudget, long... baseAndSize) {
        if (baseAndSize.length == 0 || baseAndSize.length % 2 != 0) throw new IllegalArgumentException("base, size pairs");
        List<MemoryRegion> regions = new ArrayList<>();
        for (int i = 0; i < baseAndSize.length; i += 2) {
            regions.add(new MemoryRegion(baseAndSize[i], Arena.ofAuto().allocate(baseAndSize[i + 1], PAGE)));
        }
        FuzzMemory m = new FuzzMemory(regions, rule);
        m.arm(findings, stepBudget);
        return m;
    }

    /** Starts a new input on this memory (contents are kept): counters to zero, violations to {@code findings}. */
    public void arm(Findings findings, long stepBudget) {
        this.findings = findings;
        this.budget = stepBudget;
        this.exhausted = false;
        steps.set(0);
        refused.set(0);
    }

    /** The memory without counting or rules, for the harness. */
    public GuestMemory raw() { return ram; }

    /** Steps spent by the current input. */
    public long steps() { return steps.get(); }

    /** Accesses outside guest RAM the current input made (and that were refused). */
    public long refused() { return refused.get(); }

    /** Whether {@code segment} lies wholly inside one RAM region: what a backend may be handed. */
    public boolean covers(MemorySegment segment) {
        for (MemoryRegion r : ram.regions()) {
            long start = r.host().address();
            if (segment.address() >= start && segment.address() - start <= r.size()
                    && segment.byteSize() <= r.size() - (segment.address() - start)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Zeroes RAM, then copies {@code image} into it from the start of the first region on (what fits), so that
     * one memory serves many inputs and each sees only its own bytes.
     */
    public void load(byte[] image) {
        for (MemoryRegion r : ram.regions()) r.host().fill((byte) 0);
        long at = 0;
        for (MemoryRegion r : ram.regions()) {
            if (at >= image.length) return;
            int n = (int) Math.min(r.size(), image.length - at);
            MemorySegment.copy(image, (int) at, r.host(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0, n);
            at += n;
        }
    }

    private void spend(long len) {
        long n = steps.addAndGet(1 + Math.max(0, len) / PAGE);
        if (n > budget) {
            if (!exhausted) {
                exhausted = true;
                findings.add("more than " + budget + " guest-memory steps for one input (a loop on guest data?)",
                        new StepBudgetExceeded("step budget of " + budget + " exceeded"));
            }
            throw new StepBudgetExceeded("step budget of " + budget + " exceeded");
        }
    }

    private void check(long gpa, long len) {
        spend(len);
        if (ram.isValid(gpa, len)) return;
        refused.incrementAndGet();
        GuestMemoryException e = new GuestMemoryException(gpa, len);
        if (rule == OutsideRam.FINDING) {
            findings.add(String.format("access [0x%x, +0x%x) outside guest RAM on thread %s", gpa, len, Thread.currentThread().getName()), e);
        }
        throw e;
    }

    @Override public List<MemoryRegion> regions() { return ram.regions(); }

    @Override
    public MemorySegment slice(long gpa, long len) {
        check(gpa, len);
        return ram.slice(gpa, len);
    }

    @Override
    public boolean isValid(long gpa, long len) {
        spend(0);
        return ram.isValid(gpa, len);
    }

    @Override public byte readByte(long gpa) { check(gpa, 1); return ram.readByte(gpa); }

    @Override public short readShort(long gpa) { check(gpa, 2); return ram.readShort(gpa); }

    @Override public int readInt(long gpa) { check(gpa, 4); return ram.readInt(gpa); }

    @Override public long readLong(long gpa) { check(gpa, 8); return ram.readLong(gpa); }

    @Override public void writeByte(long gpa, byte value) { check(gpa, 1); ram.writeByte(gpa, value); }

    @Override public void writeShort(long gpa, short value) { check(gpa, 2); ram.writeShort(gpa, value); }

    @Override public void writeInt(long gpa, int value) { check(gpa, 4); ram.writeInt(gpa, value); }

    @Override public void writeLong(long gpa, long value) { check(gpa, 8); ram.writeLong(gpa, value); }

    @Override
    public void read(long gpa, byte[] dst, int off, int len) {
        check(gpa, len);
        ram.read(gpa, dst, off, len);
    }

    @Override
    public void write(long gpa, byte[] src, int off, int len) {
        check(gpa, len);
        ram.write(gpa, src, off, len);
    }

    @Override
    public void fill(long gpa, long len, byte value) {
        check(gpa, len);
        ram.fill(gpa, len, value);
    }
}

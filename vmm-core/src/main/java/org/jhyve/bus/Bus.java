package org.jhyve.bus;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.jhyve.build.Observability;
import org.jhyve.trace.TraceEvent;
import org.jhyve.trace.TraceKind;
import org.jhyve.trace.Tracer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A port-IO or MMIO address space: a map from ranges to devices that rejects overlaps, and can move a
 * range when the guest reprograms a PCI BAR. An access nobody claims reads as all-ones and writes are
 * dropped, as on a real bus where no device answers; both are traced at debug level.
 *
 * <p>vCPU threads dispatch concurrently; registration (rare: setup and BAR moves) takes the write lock.
 *
 * <p>A bus made with a {@link Tracer} records every access as a {@code pio} or {@code mmio} trace line: a
 * write before the device sees it (so what the write causes, an interrupt say, follows it in the trace), a
 * read once its value is known.
 */
public final class Bus {
    private static final Logger log = LoggerFactory.getLogger(Bus.class);

    private final String name;
    private final TreeMap<Long, BusRange> ranges = new TreeMap<>();
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final TraceKind traceKind;
    private final Tracer tracer;

    /** An untraced bus. */
    public Bus(String name) {
        this(name, TraceKind.PIO, Tracer.off());
    }

    /** A bus whose accesses {@code tracer} records as {@code traceKind} (PIO or MMIO) lines. */
    public Bus(String name, TraceKind traceKind, Tracer tracer) {
        if (traceKind != TraceKind.PIO && traceKind != TraceKind.MMIO) throw new IllegalArgumentException("a bus traces PIO or MMIO: " + traceKind);
        this.name = name;
        this.traceKind = traceKind;
        this.tracer = tracer;
    }

    public String name() { return name; }

    /** Claims {@code [base, base+length)} for {@code device}. */
    public BusRange register(long base, long length, String deviceName, BusDevice device) {
        BusRange range = new BusRange(base, length, deviceName, device);
        lock.writeLock().lock();
        try {
            BusRange clash = findOverlap(base, length);
            if (clash != null) {
                throw new BusConflictException(String.format("%s: %s at 0x%x-0x%x overlaps %s",
                        name, deviceName, base, base + length - 1, clash));
            }
            ranges.put(base, range);
            return range;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Removes the range registered at exactly {@code base}; returns false if there was none. */
    public boolean unregister(long base) {
        lock.writeLock().lock();
        try {
            return ranges.remove(base) != null;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Moves a range to a new base (a BAR reprogrammed by the guest); fails without change on overlap. */
    public BusRange move(long oldBase, long newBase) {
        lock.writeLock().lock();
        try {
            BusRange old = ranges.remove(oldBase);
            if (old == null) throw new IllegalArgumentException(String.format("%s: nothing at 0x%x", name, oldBase));
            try {
                BusRange clash = findOverlap(newBase, old.length());
                if (clash != null) {
                    throw new BusConflictException(String.format("%s: moving %s to 0x%x overlaps %s",
                            name, old.name(), newBase, clash));
                }
            } catch (RuntimeException e) {
                ranges.put(oldBase, old);
                throw e;
            }
            BusRange moved = new BusRange(newBase, old.length(), old.name(), old.device());
            ranges.put(newBase, moved);
            return moved;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private BusRange findOverlap(long base, long length) {
        Map.Entry<Long, BusRange> below = ranges.floorEntry(base + length - 1);
        // Ranges are disjoint, so only the last range starting before our end can overlap us.
        if (below != null && below.getValue().overlaps(base, length)) return below.getValue();
        return null;
    }

    /** The range containing {@code address}, or null. */
    public BusRange lookup(long address) {
        lock.readLock().lock();
        try {
            Map.Entry<Long, BusRange> e = ranges.floorEntry(address);
            if (e != null && address < e.getValue().end()) return e.getValue();
            return null;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Reads {@code size} bytes at {@code address}; all-ones where no device answers. */
    public long read(long address, int size) {
        BusRange r = lookup(address);
        long value;
        if (r == null) {
            if (log.isDebugEnabled()) log.debug("{}: unclaimed read of {} bytes at 0x{}", name, size, Long.toHexString(address));
            value = allOnes(size);
        } else {
            value = r.device().read(address - r.base(), size) & allOnes(size);
        }
        if (Observability.HOOKS && tracer.enabled(traceKind)) trace(r, address, size, false, value);
        return value;
    }

    /** Writes {@code size} bytes at {@code address}; dropped where no device answers. */
    public void write(long address, int size, long value) {
        BusRange r = lookup(address);
        if (Observability.HOOKS && tracer.enabled(traceKind)) trace(r, address, size, true, value & allOnes(size));
        if (r == null) {
            if (log.isDebugEnabled()) {
                log.debug("{}: unclaimed write of {} bytes at 0x{} value 0x{}", name, size,
                        Long.toHexString(address), Long.toHexString(value & allOnes(size)));
            }
            return;
        }
        r.device().write(address - r.base(), size, value & allOnes(size));
    }

    private void trace(BusRange r, long address, int size, boolean write, long value) {
        tracer.record(new TraceEvent.BusAccess(traceKind, address, size, write, value, r == null ? "unclaimed" : r.name()));
    }

    /** A snapshot of the registered ranges in address order. */
    public java.util.List<BusRange> ranges() {
        lock.readLock().lock();
        try {
            return java.util.List.copyOf(ranges.values());
        } finally {
            lock.readLock().unlock();
        }
    }

    public static long allOnes(int size) {
        return size >= 8 ? -1L : (1L << (size * 8)) - 1;
    }
}

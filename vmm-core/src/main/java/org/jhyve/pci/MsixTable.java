package org.jhyve.pci;

import org.jhyve.irq.MsiSink;

/**
 * MSI-X state of one PCI function: the vector table and pending-bit array (both living in a memory BAR,
 * reached through {@link #readTable}/{@link #writeTable}/{@link #readPba}) and the enable and function-mask
 * bits of the capability. {@link #signal} delivers a vector's message, or latches it as pending while the
 * vector or the whole function is masked; unmasking delivers what is pending (PCI 3.0, 6.8.2).
 *
 * <p>Table accesses come from vCPU threads and signals from device threads, hence the lock. The guest
 * controls every table byte; a message is only ever handed to the {@link MsiSink}, which decides what it means.
 */
public final class MsixTable {
    /** Bytes per table entry: message address low/high, data, vector control. */
    public static final int ENTRY_SIZE = 16;
    private static final int VECTOR_CONTROL = 12, MASK_BIT = 1;

    private final int vectors;
    private final int[] table;
    private final long[] pending;
    private final MsiSink sink;
    private boolean enabled;
    private boolean functionMasked;

    public MsixTable(int vectors, MsiSink sink) {
        if (vectors < 1 || vectors > 2048) throw new IllegalArgumentException("MSI-X has 1-2048 vectors: " + vectors);
        this.vectors = vectors;
        this.sink = sink;
        this.table = new int[vectors * 4];
        this.pending = new long[(vectors + 63) / 64];
        for (int v = 0; v < vectors; v++) table[v * 4 + 3] = MASK_BIT; // every vector starts masked
    }

    public int vectors() { return vectors; }

    /** Size in bytes of the vector table. */
    public int tableSize() { return vectors * ENTRY_SIZE; }

    /** Size in bytes of the pending-bit array (whole qwords). */
    public int pbaSize() { return pending.length * 8; }

    /** True when MSI-X is enabled: the function then signals through the table and not INTx. */
    public synchronized boolean enabled() { return enabled; }

    /** Sets the capability's MSI-X Enable and Function Mask bits, as the guest wrote them. */
    public synchronized void setControl(boolean enable, boolean maskAll) {
        this.enabled = enable;
        this.functionMasked = maskAll;
        deliverPending();
    }

    /**
     * Signals {@code vector}: sends its message now, or marks it pending while masked. Returns false when MSI-X
     * is off or the vector does not exist (the caller may then use INTx).
     */
    public synchronized boolean signal(int vector) {
        if (!enabled || vector < 0 || vector >= vectors) return false;
        if (functionMasked || masked(vector)) {
            pending[vector >>> 6] |= 1L << vector;
            return true;
        }
        send(vector);
        return true;
    }

    /** Reads table bytes {@code [offset, offset+size)}; size 4 or 8, naturally aligned, else all ones. */
    public synchronized long readTable(long offset, int size) {
        if (!tableAccessOk(offset, size)) return size == 8 ? -1L : 0xffffffffL;
        int word = (int) (offset / 4);
        long low = table[word] & 0xffffffffL;
        return size == 8 ? low | (table[word + 1] & 0xffffffffL) << 32 : low;
    }

    /** Writes table bytes; other widths and unaligned writes are ignored (PCI leaves them undefined). */
    public synchronized void writeTable(long offset, int size, long value) {
        if (!tableAccessOk(offset, size)) return;
        int word = (int) (offset / 4);
        table[word] = (int) value;
        if (size == 8) table[word + 1] = (int) (value >>> 32);
        deliverPending();
    }

    /** Reads the pending-bit array; writes to it are ignored (it is read-only). */
    public synchronized long readPba(long offset, int size) {
        if ((size != 4 && size != 8) || offset < 0 || offset % size != 0 || offset + size > pbaSize()) {
            return size == 8 ? -1L : 0xffffffffL;
        }
        long qword = pending[(int) (offset / 8)];
        if (size == 8) return qword;
        return (offset % 8 == 0 ? qword : qword >>> 32) & 0xffffffffL;
    }

    /** Whether {@code vector} is pending (for tests and tracing). */
    public synchronized boolean isPending(int vector) {
        return (pending[vector >>> 6] & 1L << vector) != 0;
    }

    private boolean tableAccessOk(long offset, int size) {
        return (size == 4 || size == 8) && offset >= 0 && offset % size == 0 && offset + size <= tableSize();
    }

    private boolean masked(int vector) {
        return (table[vector * 4 + 3] & MASK_BIT) != 0;
    }

    private void deliverPending() {
        if (!enabled || functionMasked) return;
        for (int v = 0; v < vectors; v++) {
            if ((pending[v >>> 6] & 1L << v) != 0 && !masked(v)) {
                pending[v >>> 6] &= ~(1L << v);
                send(v);
            }
        }
    }

    private void send(int vector) {
        long address = (table[vector * 4] & 0xffffffffL) | (long) table[vector * 4 + 1] << 32;
        sink.signal(address, table[vector * 4 + 2]);
    }
}

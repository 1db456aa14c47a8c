package org.jhyve.devices.block;

import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.StampedLock;

/**
 * Keeps O_DIRECT read-modify-write from losing writes. A write that covers part of a 4 KiB block reads the
 * block, merges the guest's sectors and writes the whole block back; anything another thread wrote to that
 * block in between is undone. So a request takes each block it changes: exclusively where it writes back
 * bytes it read (the merged head and tail blocks), shared where it writes only bytes the guest gave it (whole
 * blocks, zeroes, holes). Two merges of one block run one after the other; a whole-block write waits for a
 * merge of that block, and whole-block writes run side by side.
 *
 * <p>Blocks map onto a fixed number of stripes (block index modulo the count), each a read-write lock. A
 * request takes every stripe it needs once, in ascending stripe order and with the strongest mode any of its
 * blocks needs there, so two requests can never wait for each other in a cycle. A request of at least as
 * many blocks as there are stripes takes them all.
 *
 * <p>Threading: any thread may call {@link #lock}, and any thread may close the {@link Hold} it returns, once:
 * the stripes are {@link StampedLock}s, which no thread owns, so a write the kernel finishes on io_uring's
 * completion thread releases the blocks its submitter took. Not reentrant: a thread must not wait for blocks
 * it holds itself (a request takes each stripe once, and a thread holds one request's blocks at a time, or
 * leaves them to a completion that another thread runs).
 */
final class BlockRangeLocks {
    private static final byte NONE = 0, SHARED = 1, EXCLUSIVE = 2;

    /** Locks held for one request; closing releases them. */
    interface Hold extends AutoCloseable {
        @Override
        void close();
    }

    private final int blockSize;
    private final StampedLock[] stripes;

    /** {@code blockSize} and {@code stripeCount} are powers of two. */
    BlockRangeLocks(int blockSize, int stripeCount) {
        if (Integer.bitCount(blockSize) != 1 || Integer.bitCount(stripeCount) != 1) {
            throw new IllegalArgumentException("block size " + blockSize + " and stripe count " + stripeCount + " must be powers of two");
        }
        this.blockSize = blockSize;
        this.stripes = new StampedLock[stripeCount];
        for (int i = 0; i < stripeCount; i++) stripes[i] = new StampedLock();
    }

    /**
     * Locks the blocks under bytes {@code [offset, offset + length)}: shared, except that the first block is
     * exclusive when {@code mergeHead} and the last when {@code mergeTail}. Blocks until every stripe is held.
     */
    Hold lock(long offset, long length, boolean mergeHead, boolean mergeTail) {
        if (length <= 0) return () -> { };
        long first = offset / blockSize, last = (offset + length - 1) / blockSize;
        byte[] mode = new byte[stripes.length];
        if (last - first + 1 >= stripes.length) {
            java.util.Arrays.fill(mode, SHARED);
        } else {
            for (long b = first; b <= last; b++) mode[stripe(b)] = SHARED;
        }
        if (mergeHead) mode[stripe(first)] = EXCLUSIVE;
        if (mergeTail) mode[stripe(last)] = EXCLUSIVE;
        Lock[] held = new Lock[stripes.length];
        int n = 0;
        for (int s = 0; s < stripes.length; s++) {
            if (mode[s] == NONE) continue;
            Lock l = mode[s] == EXCLUSIVE ? stripes[s].asWriteLock() : stripes[s].asReadLock();
            l.lock();
            held[n++] = l;
        }
        int count = n;
        return () -> {
            for (int i = count - 1; i >= 0; i--) held[i].unlock();
        };
    }

    private int stripe(long block) {
        return (int) (block & (stripes.length - 1));
    }
}

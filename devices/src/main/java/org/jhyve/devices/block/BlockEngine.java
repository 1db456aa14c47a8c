package org.jhyve.devices.block;

/**
 * Runs a disk's {@link BlockRequest}s asynchronously: {@link #submit} returns at once and the request's
 * {@link BlockCompletion} hears how it ended, later and from another thread, so that a device can keep many
 * requests of one queue in flight at once (as a guest with a queue depth of 32 expects). Requests submitted
 * together may run, and complete, in any order; ordering a FLUSH after the writes it must cover is the
 * submitter's job (submit it once they have completed).
 *
 * <p>Every request goes through the disk's {@link BlockExecutor}, so checks, logs and outcomes are the same as
 * for a synchronous call, and its data is moved only after the checks passed.
 *
 * <p>Threading: {@link #submit} may be called from several threads at once (a queue worker per queue); the
 * request's buffers must stay valid (guest memory held) until its completion has been called. {@link #close}
 * comes once, from the thread closing the device, after its queue workers have stopped submitting: requests
 * still running complete as usual, and later submissions are refused with an {@link IllegalStateException}.
 */
public interface BlockEngine extends AutoCloseable {
    /** Starts {@code request}; {@code done} is called exactly once when it has ended. */
    void submit(BlockRequest request, BlockCompletion done);

    /**
     * Requests submitted from now until {@link #endBatch} may wait in the engine and go to the host together (one
     * io_uring_enter for all the reads a queue worker took off its ring at once, rather than one each). Batches
     * from several threads may overlap; what they hold starts once the last of them has ended. Engines that start
     * each request at once ignore both calls.
     */
    default void beginBatch() {}

    /** Ends a {@link #beginBatch}: what the batch submitted is on its way when this returns. */
    default void endBatch() {}

    /** Stops taking requests and lets the engine's threads end once idle. Idempotent. */
    @Override
    void close();
}

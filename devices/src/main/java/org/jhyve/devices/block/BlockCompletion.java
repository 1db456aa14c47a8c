package org.jhyve.devices.block;

/**
 * Where a {@link BlockEngine} reports how a request it was given ended.
 *
 * <p>Threading: exactly one of the two methods is called, once per submitted request, from whichever thread
 * finished it (an engine thread, or the submitting thread itself when the request needed no I/O), possibly
 * before {@link BlockEngine#submit} has returned. Implementations must not block: the caller may be the one
 * thread reaping every completion of a disk.
 */
public interface BlockCompletion {
    /** The request ran to {@code outcome} (logged by the executor when it was a failure). */
    void completed(BlockOutcome outcome);

    /**
     * The request ended in a device-model fault (a {@link RuntimeException} from its {@link DataBuffers}, or
     * from this completion's own {@link #completed}): not the guest's nor the host's doing; the device contains it.
     */
    void failed(RuntimeException fault);
}

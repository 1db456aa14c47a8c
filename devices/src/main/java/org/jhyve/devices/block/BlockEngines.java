package org.jhyve.devices.block;

/**
 * The {@link BlockEngine} a device runs its requests on, for one activation.
 *
 * <p>The default, {@link Kind#IO_URING}, reads images opened with nocache (O_DIRECT), and writes whole blocks of
 * them, through io_uring, and runs everything else on I/O threads; {@link Kind#THREADS} runs everything on I/O threads. io_uring is the default
 * because it measured better where it applies: 4 KiB random reads at queue depth 32 from one virtio-blk queue
 * (docs/performance.md has the figures), since the queue's worker submits without waking a thread per request.
 * A page-cache image stays on threads: not measured through io_uring yet (a buffered read that misses the cache
 * may be handed by the kernel to its own worker threads, which would make it a thread pool again).
 */
public final class BlockEngines {
    private BlockEngines() {}

    public enum Kind { THREADS, IO_URING }

    /** An engine for {@code backend}'s requests, through {@code executor}, with up to {@code threads} I/O threads. */
    public static BlockEngine open(Kind kind, String name, BlockExecutor executor, BlockBackend backend, int threads) {
        BlockEngine pool = new ThreadPoolBlockEngine(name, executor, threads);
        if (kind == Kind.IO_URING && backend instanceof FileBlockBackend file && file.direct()) {
            return IoUringBlockEngine.open(name, executor, file, pool);
        }
        return pool;
    }
}

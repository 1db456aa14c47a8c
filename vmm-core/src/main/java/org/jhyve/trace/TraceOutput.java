package org.jhyve.trace;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where lines go: a buffer of fixed size in front of a writer, written on the calling thread under a lock.
 * Memory stays bounded because a full buffer is written out by the thread that filled it (it waits for the
 * disk) rather than queued. The first write error is logged and ends tracing; the VM goes on.
 */
final class TraceOutput implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TraceOutput.class);
    static final int BUFFER_CHARS = 1 << 16;

    private final String description;
    private final BufferedWriter out;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean stopped;

    TraceOutput(String description, Writer target) {
        this.description = description;
        this.out = new BufferedWriter(target, BUFFER_CHARS);
    }

    void writeLine(String line) {
        lock.lock();
        try {
            if (stopped) return;
            out.write(line);
            out.write('\n');
        } catch (IOException e) {
            stop("writing", e);
        } finally {
            lock.unlock();
        }
    }

    void flush() {
        lock.lock();
        try {
            if (!stopped) out.flush();
        } catch (IOException e) {
            stop("flushing", e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (!stopped) out.flush();
            stopped = true;
            out.close();
        } catch (IOException e) {
            log.error("trace {}: closing failed: {}", description, e.toString());
        } finally {
            lock.unlock();
        }
    }

    private void stop(String what, IOException e) {
        stopped = true;
        log.error("trace {}: {} failed, tracing stops: {}", description, what, e.toString());
    }
}

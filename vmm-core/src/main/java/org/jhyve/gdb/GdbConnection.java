package org.jhyve.gdb;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gdb session over a byte stream. Everything happens on the session thread, which takes events from one
 * queue: what a reader thread finds in gdb's bytes, and the target's stop reports. So a Ctrl-C or a stop
 * that arrives while the target runs is handled as soon as it comes, and the target is only ever called from
 * here (plus the stop callback, which only queues).
 *
 * <p>Acknowledgements: until gdb asks for no-ack mode every good packet gets {@code +} and every damaged one
 * {@code -}; a {@code -} from gdb resends the last reply.
 *
 * <p>Back-pressure: replies are written on the session thread, so a peer that stops reading them stalls that
 * thread in a write, with only the kernel's socket buffers in between. The reader then stops reading too once
 * {@link #MAX_QUEUED_BYTES} of what gdb sent waits to be handled, so the kernel's buffers fill towards the peer
 * and its writes stall: nothing a peer does grows jhyve's memory past that bound. gdb itself never gets near it
 * (it waits for each reply). Stop reports (one per resume) and the end of the stream are not counted: the
 * target's threads never wait for the peer.
 */
final class GdbConnection {
    private static final Logger log = LoggerFactory.getLogger(GdbConnection.class);

    /** What a queued item from gdb costs besides its payload, so a flood of acks or Ctrl-Cs is bounded too. */
    static final int ITEM_COST = 16;
    /** How much of what gdb sent may wait to be handled (payload bytes plus {@link #ITEM_COST} per item). */
    static final int MAX_QUEUED_BYTES = 2 * (PacketDecoder.MAX_PAYLOAD + ITEM_COST);

    /** How the session ended. */
    enum End { DETACHED, KILLED, DISCONNECTED, SHUT_DOWN }

    private sealed interface Event {
        record FromGdb(Incoming item) implements Event {}
        record Stopped(Stop stop) implements Event {}
        record Disconnected() implements Event {}
        record ShutDown() implements Event {}
    }

    private final InputStream in;
    private final OutputStream out;
    private final GdbTarget target;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    /** Permits for what gdb sent and the session has not handled yet: the reader takes, the session gives back. */
    private final Semaphore room = new Semaphore(MAX_QUEUED_BYTES);
    private byte[] lastSent = new byte[0];

    GdbConnection(InputStream in, OutputStream out, GdbTarget target) {
        this.in = in;
        this.out = out;
        this.target = target;
    }

    /** Ends {@link #serve()} after the events already queued (a final stop reply among them) are handled. */
    void shutDown() {
        events.add(new Event.ShutDown());
    }

    /** Bytes of what gdb sent (as {@link #MAX_QUEUED_BYTES} counts them) waiting to be handled now. */
    int queuedFromGdb() {
        return MAX_QUEUED_BYTES - room.availablePermits();
    }

    /** Serves gdb until it detaches, kills, disconnects, or {@link #shutDown()}. Runs on the calling thread. */
    End serve() throws InterruptedException {
        Stop initial = target.attach();
        GdbCommands commands = new GdbCommands(target, initial, stop -> events.add(new Event.Stopped(stop)));
        Thread reader = Thread.ofVirtual().name("jhyve-gdb-reader").start(this::readLoop);
        try {
            return loop(commands);
        } catch (IOException e) {
            log.info("gdb connection lost: {}", e.getMessage());
            return End.DISCONNECTED;
        } finally {
            reader.interrupt();
        }
    }

    private End loop(GdbCommands commands) throws InterruptedException, IOException {
        boolean running = false;
        while (true) {
            Event event = events.take();
            if (event instanceof Event.FromGdb(Incoming item)) room.release(cost(item));
            switch (event) {
                case Event.Disconnected d -> {
                    return End.DISCONNECTED;
                }
                case Event.ShutDown s -> {
                    return End.SHUT_DOWN;
                }
                case Event.Stopped s -> {
                    running = false;
                    send(commands.stopped(s.stop()));
                }
                case Event.FromGdb(Incoming.Interrupt i) -> {
                    if (running) target.interrupt();
                }
                case Event.FromGdb(Incoming.Ack a) -> { }
                case Event.FromGdb(Incoming.Nak n) -> {
                    if (commands.acknowledging()) write(lastSent);
                }
                case Event.FromGdb(Incoming.Corrupt c) -> {
                    log.debug("damaged packet from gdb: {}", c.why());
                    if (commands.acknowledging()) write(new byte[] {'-'});
                }
                case Event.FromGdb(Incoming.Packet p) -> {
                    if (commands.acknowledging()) write(new byte[] {'+'});
                    if (log.isTraceEnabled()) log.trace("gdb> {}", GdbCommands.printable(p.payload()));
                    if (running) {
                        // All-stop mode: gdb sends nothing but Ctrl-C while the target runs.
                        send(GdbCommands.ERROR);
                        continue;
                    }
                    switch (commands.handle(p.payload())) {
                        case Reply.Send r -> send(r.payload());
                        case Reply.Resumed r -> running = true;
                        case Reply.Close(var last) -> {
                            if (last.isPresent()) send(last.get());
                            return p.payload().startsWith("D") ? End.DETACHED : End.KILLED;
                        }
                    }
                }
            }
        }
    }

    private void send(String payload) throws IOException {
        if (log.isTraceEnabled()) log.trace("gdb< {}", GdbCommands.printable(payload));
        lastSent = PacketFrames.frame(payload);
        write(lastSent);
    }

    private void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    private static int cost(Incoming item) {
        return ITEM_COST + (item instanceof Incoming.Packet(String payload) ? payload.length() : 0);
    }

    private void readLoop() {
        PacketDecoder decoder = new PacketDecoder();
        byte[] buffer = new byte[4096];
        try {
            int n;
            while ((n = in.read(buffer)) > 0) {
                for (int i = 0; i < n; i++) {
                    var item = decoder.accept(buffer[i]);
                    if (item.isEmpty()) continue;
                    room.acquire(cost(item.get())); // waits (and stops reading) while the session is behind
                    events.add(new Event.FromGdb(item.get()));
                }
            }
        } catch (IOException e) {
            log.debug("reading from gdb: {}", e.getMessage());
        } catch (InterruptedException e) {
            return; // the session is over: nobody takes events any more
        }
        events.add(new Event.Disconnected());
    }
}

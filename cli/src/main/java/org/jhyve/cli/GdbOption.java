package org.jhyve.cli;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import org.jhyve.vm.VmBuilder;

/**
 * {@code -g} and {@code -G}: where the GDB stub listens. xhyve's {@code -g PORT} is a TCP port on 127.0.0.1;
 * {@code -g unix:PATH} is a Unix socket (mode 0600), for gdb's {@code target remote PATH}. bhyve's
 * {@code -G [w][BIND:]PORT} is the same stub: with {@code w} the vCPUs wait for gdb before they start (as
 * with {@code -g}), without it they run at once and stop when gdb attaches; BIND may only be a loopback name
 * (127.0.0.1, localhost; bhyve's default is localhost), since the stub serves only jhyve's own user, which it
 * tells from the kernel's socket table, so only for local peers. Either way only jhyve's own user is served.
 */
sealed interface GdbOption {
    /** {@code waits}: the vCPUs wait for gdb before their first instruction ({@code -g}, {@code -G w...}). */
    record Port(int port, boolean waits) implements GdbOption {
        Port(int port) {
            this(port, true);
        }
    }

    record UnixSocket(Path path) implements GdbOption {}

    static GdbOption parse(String text) throws UsageException {
        if (text.startsWith("unix:")) {
            String path = text.substring(5);
            if (path.isEmpty()) throw new UsageException("-g " + text, "expected unix:PATH");
            return new UnixSocket(Path.of(path));
        }
        try {
            int port = Integer.parseInt(text);
            if (port >= 1 && port <= 65535) return new Port(port);
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("-g " + text, "not a TCP port (1-65535) or unix:PATH");
    }

    /** bhyve's {@code -G [w][BIND:]PORT}. */
    static GdbOption parseBhyve(String text) throws UsageException {
        String flag = "-G " + text;
        boolean waits = text.startsWith("w");
        String rest = waits ? text.substring(1) : text;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            String bind = rest.substring(0, colon);
            if (!bind.equals("127.0.0.1") && !bind.equals("localhost")) {
                throw new UsageException(flag, "the gdb stub listens on 127.0.0.1 only (it serves jhyve's own user, which it can tell only for local peers)");
            }
            rest = rest.substring(colon + 1);
        }
        try {
            int port = Integer.parseInt(rest);
            if (port >= 0 && port <= 65535) return new Port(port, waits); // 0: a free port, named in the line jhyve prints
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(flag, "expected [w][BIND:]PORT with PORT 0-65535");
    }

    default void applyTo(VmBuilder builder) {
        switch (this) {
            case Port p -> builder.gdb(p.port()).gdbWaits(p.waits());
            case UnixSocket u -> builder.gdb(u.path());
        }
    }

    /**
     * What jhyve says once the stub listens at {@code address} ({@code VirtualMachine.gdbAddress()}), after its
     * "jhyve: " (or "jhyve NAME: "): where, gdb's target, and whether the guest waits for gdb.
     */
    default String listening(SocketAddress address) {
        String where, target;
        if (address instanceof InetSocketAddress inet) {
            where = inet.getAddress().getHostAddress() + ":" + inet.getPort();
            target = ":" + inet.getPort();
        } else {
            where = address instanceof UnixDomainSocketAddress unix ? unix.getPath().toString() : address.toString();
            target = where;
        }
        boolean waits = !(this instanceof Port p) || p.waits();
        return waits ? "waiting for gdb on " + where + " (target remote " + target + "); the guest starts when gdb continues"
                : "gdb stub on " + where + " (target remote " + target + "); the guest runs; gdb stops it when it attaches";
    }
}

package org.jhyve.cli;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import org.jhyve.vm.VmBuilder;

/**
 * {@code -g}: where the GDB stub listens. xhyve's {@code -g PORT} is a TCP port on 127.0.0.1; {@code -g unix:PATH}
 * is a Unix socket (mode 0600), for gdb's {@code target remote PATH}. Either way only jhyve's own user is served.
 */
sealed interface GdbOption {
    record Port(int port) implements GdbOption {}

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

    default void applyTo(VmBuilder builder) {
        switch (this) {
            case Port p -> builder.gdb(p.port());
            case UnixSocket u -> builder.gdb(u.path());
        }
    }

    /** The line jhyve prints once the stub listens at {@code address} ({@code VirtualMachine.gdbAddress()}). */
    static String waitingLine(SocketAddress address) {
        String where, target;
        if (address instanceof InetSocketAddress inet) {
            where = inet.getAddress().getHostAddress() + ":" + inet.getPort();
            target = ":" + inet.getPort();
        } else {
            where = address instanceof UnixDomainSocketAddress unix ? unix.getPath().toString() : address.toString();
            target = where;
        }
        return "jhyve: waiting for gdb on " + where + " (target remote " + target + "); the guest starts when gdb continues";
    }
}

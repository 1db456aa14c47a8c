package org.jhyve.cli;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import org.jhyve.config.ConfigException;
import org.jhyve.config.ConfigNode;
import org.jhyve.config.ConfigTree;
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

    String PORT = "gdb.port", WAIT = "gdb.wait", ADDRESS = "gdb.address", SOCKET = "jhyve.gdb.socket";

    /** {@code -g}'s keys: {@code gdb.port} and {@code gdb.wait=true}, or {@code jhyve.gdb.socket} for unix:PATH. */
    static void translate(String text, ConfigTree.Builder b) throws UsageException {
        String flag = "-g " + text;
        switch (parse(text)) {
            case Port p -> {
                KeyErrors.set(b, PORT, String.valueOf(p.port()), flag);
                KeyErrors.set(b, WAIT, "true", flag);
            }
            case UnixSocket u -> KeyErrors.set(b, SOCKET, text.substring(5), flag);
        }
    }

    /** {@code -G}'s keys: {@code gdb.port}, {@code gdb.wait}, and {@code gdb.address} when BIND is given. */
    static void translateBhyve(String text, ConfigTree.Builder b) throws UsageException {
        String flag = "-G " + text;
        Port p = (Port) parseBhyve(text);
        String rest = text.startsWith("w") ? text.substring(1) : text;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) KeyErrors.set(b, ADDRESS, rest.substring(0, colon), flag);
        KeyErrors.set(b, PORT, String.valueOf(p.port()), flag);
        KeyErrors.set(b, WAIT, String.valueOf(p.waits()), flag);
    }

    /**
     * The stub the tree asks for, if any: bhyve's {@code gdb.port} (0 here is a free port, said in the line jhyve
     * prints; bhyve reads 0 as no stub), {@code gdb.wait} (default false, as bhyve), {@code gdb.address} (loopback
     * only), or jhyve's {@code jhyve.gdb.socket}.
     */
    static Optional<GdbOption> read(ConfigTree tree) throws UsageException {
        ConfigNode root = tree.root();
        Optional<String> port = root.get(PORT), socket = root.get(SOCKET), address = root.get(ADDRESS);
        boolean waits;
        try {
            waits = root.bool(WAIT, false);
        } catch (ConfigException e) {
            throw KeyErrors.usage(tree, e);
        }
        if (address.isPresent() && !address.get().equals("127.0.0.1") && !address.get().equals("localhost")) {
            throw new UsageException(KeyErrors.origin(tree, ADDRESS), "the gdb stub listens on 127.0.0.1 only (it serves jhyve's own user, which it can tell only for local peers)");
        }
        if (socket.isPresent()) {
            if (port.isPresent()) throw new UsageException(KeyErrors.origin(tree, SOCKET), "a gdb stub on a Unix socket and on " + PORT + "=" + port.get() + ": give one");
            if (socket.get().isEmpty()) throw new UsageException(KeyErrors.origin(tree, SOCKET), "expected unix:PATH");
            return Optional.of(new UnixSocket(Path.of(socket.get())));
        }
        if (port.isEmpty()) {
            tree.markRead(WAIT); // waiting for no stub is harmless, not an unknown key
            return Optional.empty();
        }
        try {
            long p = CNumber.parse(port.get());
            if (p >= 0 && p <= 65535) return Optional.of(new Port((int) p, waits));
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(KeyErrors.origin(tree, PORT), "not a TCP port (0-65535)");
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

package org.jhyve.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jhyve.posix.ErrnoException;
import org.jhyve.posix.Libc;
import org.jhyve.posix.Posix;
import org.jhyve.posix.Scratch;

/**
 * A network namespace for a test (`ip netns`), with a tap interface in it, so guests get a network that
 * touches nothing of the host's. Java code runs "inside" it on a thread that has joined it with setns(2):
 * sockets that thread creates belong to the namespace.
 */
final class NetNamespace implements AutoCloseable {
    final String name;

    private NetNamespace(String name) {
        this.name = name;
    }

    /** Whether this host lets us make namespaces and taps (root, iproute2, /dev/net/tun). */
    static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) return "needs root for network namespaces and taps";
        if (!java.nio.file.Files.exists(java.nio.file.Path.of("/dev/net/tun"))) return "no /dev/net/tun";
        if (!java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/sbin/ip")) && !java.nio.file.Files.isExecutable(java.nio.file.Path.of("/sbin/ip"))) {
            return "no ip command (iproute2)";
        }
        return null;
    }

    static NetNamespace create(String name) throws IOException, InterruptedException {
        run("ip", "netns", "add", name);
        NetNamespace ns = new NetNamespace(name);
        ns.exec("ip", "link", "set", "lo", "up");
        return ns;
    }

    /** Adds a tap (with vnet headers) at {@code cidr}, up. */
    void addTap(String tap, String cidr) throws IOException, InterruptedException {
        addTap(tap, cidr, false);
    }

    /** A tap with the vnet header; {@code multiQueue}: one the guest's queue pairs can each open (virtio-net queues=). */
    void addTap(String tap, String cidr, boolean multiQueue) throws IOException, InterruptedException {
        if (multiQueue) exec("ip", "tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr", "multi_queue");
        else exec("ip", "tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr");
        exec("ip", "addr", "add", cidr, "dev", tap);
        exec("ip", "link", "set", tap, "up");
    }

    /** The command prefix that runs a program in the namespace. */
    List<String> prefix() {
        return List.of("ip", "netns", "exec", name);
    }

    String exec(String... command) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(prefix());
        all.addAll(List.of(command));
        return run(all.toArray(String[]::new));
    }

    /** Runs {@code task} on a new thread that has joined the namespace. */
    <T> CompletableFuture<T> inside(Callable<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("in-netns-" + name).start(() -> {
            try {
                // Through jhyve's POSIX layer (the test class path reaches it; an embedder's module path does not).
                int fd = Posix.open("/var/run/netns/" + name, Libc.O_RDONLY | Libc.O_CLOEXEC);
                Scratch s = Scratch.ofThisThread();
                int r = Libc.setns(s, fd, Libc.CLONE_NEWNET);
                int err = s.errno();
                Posix.closeQuietly(fd);
                if (r != 0) throw new ErrnoException("setns", "network namespace " + name, err);
                result.complete(task.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run("ip", "netns", "del", name);
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException(String.join(" ", command) + " failed: " + out);
        return out;
    }
}

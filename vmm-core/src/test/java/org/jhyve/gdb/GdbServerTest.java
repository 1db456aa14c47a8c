package org.jhyve.gdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stub's listening side: only jhyve's own user is served, on loopback TCP and on a Unix socket (mode 0600),
 * and a Unix socket path replaces nothing but a stale socket. The other user is {@code nobody}, a
 * {@code PeerClient.java} run through {@code setpriv}; those tests need root (to change user) and util-linux.
 */
@Timeout(60)
class GdbServerTest {
    private static final int NOBODY = 65534;
    private static final String STOP_REPLY = "+" + new String(PacketFrames.frame("T05thread:1;"), StandardCharsets.ISO_8859_1);

    @TempDir
    Path dir;

    private final CountingTarget target = new CountingTarget();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
    }

    /** A {@link FakeTarget} that counts attaches: a refused peer must never stop the target. */
    static final class CountingTarget implements GdbTarget {
        final FakeTarget fake = new FakeTarget();
        final AtomicInteger attaches = new AtomicInteger();

        @Override public int threadCount() { return fake.threadCount(); }
        @Override public String describeThread(int thread) { return fake.describeThread(thread); }
        @Override public Stop attach() { attaches.incrementAndGet(); return fake.attach(); }
        @Override public CpuState readRegisters(int thread) { return fake.readRegisters(thread); }
        @Override public void writeRegisters(int thread, CpuState state) { fake.writeRegisters(thread, state); }
        @Override public byte[] readMemory(int thread, long address, int length) { return fake.readMemory(thread, address, length); }
        @Override public boolean writeMemory(int thread, long address, byte[] data) { return fake.writeMemory(thread, address, data); }
        @Override public boolean insertBreakpoint(Breakpoint b) { return fake.insertBreakpoint(b); }
        @Override public boolean removeBreakpoint(Breakpoint b) { return fake.removeBreakpoint(b); }
        @Override public void resume(java.util.Map<Integer, ResumeAction> a, java.util.function.Consumer<Stop> w) { fake.resume(a, w); }
        @Override public void interrupt() { fake.interrupt(); }
        @Override public void detach() { fake.detach(); }
        @Override public void kill() { fake.kill(); }
    }

    private GdbServer serve(java.net.SocketAddress address) {
        GdbServer server = GdbServer.listen(address);
        open.add(server);
        server.serve(target);
        return server;
    }

    @Test
    void aLoopbackPeerOfAnotherUserIsClosedBeforeTheTargetStopsAndOneOfJhyvesOwnIsServed() throws Exception {
        assumeCanRunAsNobody();
        GdbServer server = serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        int port = ((InetSocketAddress) server.address()).getPort();

        String other = runAsNobody("tcp", "127.0.0.1", Integer.toString(port));
        assertThat(other).as(other).contains("CONNECTED").contains("EOF").doesNotContain("GOT");
        assertThat(target.attaches).as("attaches for the refused peer").hasValue(0);

        try (SocketChannel own = SocketChannel.open(server.address())) {
            assertThat(ask(own)).isEqualTo(STOP_REPLY);
        }
        assertThat(target.attaches).hasValue(1);
    }

    @Test
    void theUnixSocketIsTheOwnersOnlyAndAPeerOfAnotherUserIsClosedEvenWhenTheModeLetsItConnect() throws Exception {
        Path socket = dir.resolve("gdb.sock");
        GdbServer server = serve(UnixDomainSocketAddress.of(socket));
        assertThat(server.address()).isEqualTo(UnixDomainSocketAddress.of(socket));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
        try (SocketChannel own = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            assertThat(ask(own)).isEqualTo(STOP_REPLY);
        }

        assumeCanRunAsNobody();
        makeReachableByNobody(dir);
        String denied = runAsNobody("unix", socket.toString());
        assertThat(denied).as(denied).contains("ERROR").contains("Permission denied");

        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-")); // as if the umask had let it through
        int before = target.attaches.get();
        String other = runAsNobody("unix", socket.toString());
        assertThat(other).as(other).contains("CONNECTED").contains("EOF").doesNotContain("GOT");
        assertThat(target.attaches).as("attaches for the refused peer").hasValue(before);
    }

    @Test
    void closingDeletesTheSocketFile() {
        Path socket = dir.resolve("gdb.sock");
        GdbServer server = GdbServer.listen(UnixDomainSocketAddress.of(socket));
        assertThat(Files.exists(socket)).isTrue();
        server.close();
        assertThat(Files.exists(socket)).isFalse();
    }

    @Test
    void aRegularFileOrALinkAtTheSocketPathIsLeftAloneAndRefused() throws Exception {
        Path file = Files.writeString(dir.resolve("notes.txt"), "keep me");
        assertThatThrownBy(() -> GdbServer.listen(UnixDomainSocketAddress.of(file)))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessage("gdb socket " + file + ": " + file + " exists and is not a socket (a regular file); not replacing it");
        assertThat(Files.readString(file)).isEqualTo("keep me");

        Path link = Files.createSymbolicLink(dir.resolve("link.sock"), file);
        assertThatThrownBy(() -> GdbServer.listen(UnixDomainSocketAddress.of(link)))
                .hasMessageEndingWith(link + " exists and is not a socket (a symbolic link); not replacing it");
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(Files.readString(file)).isEqualTo("keep me");
    }

    @Test
    void aSocketAnotherProcessServesIsRefusedAndAStaleOneIsReplaced() throws Exception {
        Path socket = dir.resolve("busy.sock");
        try (ServerSocketChannel someoneElse = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            someoneElse.bind(UnixDomainSocketAddress.of(socket));
            assertThatThrownBy(() -> GdbServer.listen(UnixDomainSocketAddress.of(socket)))
                    .hasMessage("gdb socket " + socket + ": " + socket + " is a socket a running process serves; not replacing it");
        }
        assertThat(Files.exists(socket)).as("closing a Unix listener leaves its file: now a stale socket").isTrue();
        GdbServer server = serve(UnixDomainSocketAddress.of(socket));
        try (SocketChannel own = SocketChannel.open(server.address())) {
            assertThat(ask(own)).isEqualTo(STOP_REPLY);
        }
    }

    @Test
    void procNetTcpLinesNameTheirOwner() {
        String table = """
                  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
                   0: 0000000000000000FFFF00000100007F:822F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 92465 1
                   1: 0000000000000000FFFF00000100007F:A18E 0000000000000000FFFF00000100007F:822F 01 00000000:00000000 00:00000000 00000000  1000        0 92466 2
                   2: 0000000000000000FFFF00000100007F:822F 0000000000000000FFFF00000100007F:A18E 01 00000000:00000000 00:00000000 00000000     0        0 92467 1
                   3: 0100007F:1F90 0100007F:D431 06 00000000:00000000 03:00001770 00000000     0        0 0 3
                   4: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 1234 1
                """;
        InetAddress lo = InetAddress.getLoopbackAddress();
        assertThat(ProcNetTcp.find(table.lines(), new InetSocketAddress(lo, 0xA18E), new InetSocketAddress(lo, 0x822F))).hasValue(1000);
        assertThat(ProcNetTcp.find(table.lines(), new InetSocketAddress(lo, 0xD431), new InetSocketAddress(lo, 0x1F90))).hasValue(65534);
        assertThat(ProcNetTcp.find(table.lines(), new InetSocketAddress(lo, 0x1F90), new InetSocketAddress(lo, 0xD431)))
                .as("TIME_WAIT sockets have no owner").isEmpty();
        assertThat(ProcNetTcp.find(table.lines(), new InetSocketAddress(lo, 1), new InetSocketAddress(lo, 2))).isEmpty();
    }

    // ---- helpers ----

    /** Sends an ack and {@code ?}; returns the ack and stop reply that come back. */
    private static String ask(SocketChannel c) throws IOException {
        c.write(ByteBuffer.wrap("+$?#3f".getBytes(StandardCharsets.ISO_8859_1)));
        InputStream in = Channels.newInputStream(c);
        return new String(in.readNBytes(STOP_REPLY.length()), StandardCharsets.ISO_8859_1);
    }

    private static void assumeCanRunAsNobody() throws IOException {
        Assumptions.assumeTrue(PeerUsers.effectiveUid(Files.readAllLines(Path.of("/proc/self/status"))) == 0,
                "another user's peer needs root to change user");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "another user's peer needs setpriv (util-linux)");
    }

    private static void makeReachableByNobody(Path directory) throws IOException {
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Runs PeerClient.java with {@code args} as nobody; its output. */
    private String runAsNobody(String... args) throws Exception {
        makeReachableByNobody(dir);
        Path source = dir.resolve("PeerClient.java");
        if (!Files.exists(source)) {
            try (InputStream in = Objects.requireNonNull(getClass().getResourceAsStream("PeerClient.java"))) {
                Files.write(source, in.readAllBytes());
            }
            Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rw-r--r--"));
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> argv = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                java, "-XX:-UsePerfData", "-Xshare:auto", source.toString()));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).directory(dir.toFile()).start();
        if (!p.waitFor(40, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the peer did not finish");
        }
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}

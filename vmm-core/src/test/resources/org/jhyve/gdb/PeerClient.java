// A gdb peer run by GdbServerTest as another user (java PeerClient.java tcp HOST PORT | unix PATH): connects,
// sends an ack and the "?" packet, and prints what comes back until end of stream or 5 seconds: "CONNECTED",
// then "GOT <text>", then "EOF" or "TIMEOUT"; or "ERROR <exception>" when it cannot connect.
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

public class PeerClient {
    public static void main(String[] args) throws Exception {
        SocketChannel s;
        try {
            s = args[0].equals("tcp")
                    ? SocketChannel.open(new InetSocketAddress(args[1], Integer.parseInt(args[2])))
                    : SocketChannel.open(UnixDomainSocketAddress.of(args[1]));
        } catch (Exception e) {
            System.out.println("ERROR " + e);
            return;
        }
        System.out.println("CONNECTED");
        Thread.ofPlatform().daemon().start(() -> {
            try {
                Thread.sleep(5000);
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("TIMEOUT");
            System.exit(0);
        });
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try {
            s.write(ByteBuffer.wrap("+$?#3f".getBytes(StandardCharsets.ISO_8859_1)));
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (s.read(b.clear()) > 0) {
                got.write(b.array(), 0, b.position());
                System.out.println("GOT " + got.toString(StandardCharsets.ISO_8859_1));
            }
        } catch (Exception e) {
            System.out.println("CLOSED " + e);
        }
        System.out.println("EOF");
        System.exit(0);
    }
}

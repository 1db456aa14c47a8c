package org.jhyve.devices.net;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Whether a host port a {@link PasstBackend.Forward} names can be bound, asked before passt is started. */
final class HostPorts {
    private HostPorts() {}

    /**
     * Binds the forward's host address and port and lets go again; throws, naming the option, when that fails (the
     * port is in use, or the address is not this host's). passt binds the same way (SO_REUSEADDR for TCP), so a
     * port that passes here fails there only if another process takes it in between: then passt exits and the
     * link is down, with its message logged.
     */
    static void checkFree(PasstBackend.Forward f) throws IOException {
        InetSocketAddress at = new InetSocketAddress(f.hostAddress(), f.hostPort());
        if (at.isUnresolved()) throw new IOException("hostfwd=" + f.describe() + ": " + f.hostAddress() + " is not an address of this host");
        try {
            if (f.udp()) {
                try (DatagramSocket s = new DatagramSocket(null)) {
                    s.bind(at);
                }
            } else {
                try (ServerSocket s = new ServerSocket()) {
                    s.setReuseAddress(true);
                    s.bind(at);
                }
            }
        } catch (IOException e) {
            String why = e.getMessage() != null && e.getMessage().contains("in use") ? "is in use" : "cannot be bound (" + e.getMessage() + ")";
            throw new IOException("hostfwd=" + f.describe() + ": " + (f.udp() ? "UDP" : "TCP") + " port " + f.hostAddress() + ":" + f.hostPort() + " " + why);
        }
    }
}

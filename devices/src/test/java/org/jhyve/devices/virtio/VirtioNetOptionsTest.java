package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.jhyve.vm.DeviceConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code -s SLOT,virtio-net,...} options: backends, the MAC, and what is refused with which message. */
class VirtioNetOptionsTest {
    static void refused(String options, String message) {
        assertThatThrownBy(() -> VirtioNetOptions.parse(options)).as(options)
                .isInstanceOf(DeviceConfigException.class).hasMessage(message);
    }

    @Test
    void aTapIsNamedAloneOrWithTap() {
        VirtioNetOptions o = VirtioNetOptions.parse("tap0");
        assertThat(o.backend()).isEqualTo(new VirtioNetOptions.Tap("tap0"));
        assertThat(o.mac()).isEmpty();
        assertThat(o.backend().describe()).isEqualTo("tap0");
        assertThat(VirtioNetOptions.parse("tap=foo").backend()).isEqualTo(new VirtioNetOptions.Tap("foo"));
        assertThat(VirtioNetOptions.parse("vmnet3").backend()).isEqualTo(new VirtioNetOptions.Tap("vmnet3"));
        assertThat(VirtioNetOptions.parse("tap=" + "x".repeat(15)).backend()).as("15 characters: the longest name")
                .isEqualTo(new VirtioNetOptions.Tap("x".repeat(15)));
    }

    @Test
    void socketsNameTheirLocalAddressAndPeer() {
        VirtioNetOptions udp = VirtioNetOptions.parse("socket=udp:127.0.0.1:5000,peer=127.0.0.1:5001");
        assertThat(udp.backend()).isEqualTo(new VirtioNetOptions.Socket("udp:127.0.0.1:5000", "127.0.0.1:5001"));
        assertThat(udp.backend().describe()).isEqualTo("socket=udp:127.0.0.1:5000,peer=127.0.0.1:5001");
        VirtioNetOptions unix = VirtioNetOptions.parse("peer=/run/b.sock,socket=unix:/run/a.sock");
        assertThat(unix.backend()).isEqualTo(new VirtioNetOptions.Socket("unix:/run/a.sock", "/run/b.sock"));
        assertThat(unix.mac()).isEmpty();
    }

    @Test
    void aMacIsParsedInEitherCase() {
        VirtioNetOptions o = VirtioNetOptions.parse("tap0,mac=02:00:5E:aa:bb:0c");
        assertThat(o.mac()).hasValueSatisfying(m -> assertThat(m).containsExactly(0x02, 0x00, 0x5e, 0xaa, 0xbb, 0x0c));
        assertThat(o.macOr("anything")).containsExactly(0x02, 0x00, 0x5e, 0xaa, 0xbb, 0x0c);
        assertThat(VirtioNetOptions.format(o.macOr("x"))).isEqualTo("02:00:5e:aa:bb:0c");
        assertThat(VirtioNetOptions.parse("mac=52:54:00:12:34:56,socket=udp:h:1,peer=h:2").mac())
                .hasValueSatisfying(m -> assertThat(m).containsExactly(0x52, 0x54, 0x00, 0x12, 0x34, 0x56));
    }

    @Test
    void queuePairsAreOneUnlessATapAsksForMore() {
        assertThat(VirtioNetOptions.parse("tap0").queuePairs()).isEqualTo(1);
        assertThat(VirtioNetOptions.parse("tap0,queues=4").queuePairs()).isEqualTo(4);
        assertThat(VirtioNetOptions.parse("queues=16,tap=foo").queuePairs()).isEqualTo(16);
        for (String bad : new String[] {"0", "17", "-1", "two", ""}) {
            refused("tap0,queues=" + bad, "virtio-net: queues=" + bad + " must be a number of queue pairs from 1 to 16");
        }
        refused("socket=udp:127.0.0.1:5000,peer=127.0.0.1:5001,queues=2", "virtio-net: queues=2 needs a tap backend (a socket or slirp is one queue)");
        assertThat(VirtioNetOptions.parse("socket=udp:127.0.0.1:5000,peer=127.0.0.1:5001,queues=1").queuePairs()).isEqualTo(1);
    }

    @Test
    void withoutABackendOrWithSlirpItIsUserModeNetworking() {
        // xhyve's "-s 2:0,virtio-net" (its vmnet NAT) and bhyve's slirp: here both mean passt.
        assertThat(VirtioNetOptions.parse("").backend()).isEqualTo(new VirtioNetOptions.UserNet(List.of()));
        assertThat(VirtioNetOptions.parse("mac=02:00:00:00:00:01").backend()).isInstanceOf(VirtioNetOptions.UserNet.class);
        assertThat(VirtioNetOptions.parse("slirp").backend()).isEqualTo(new VirtioNetOptions.UserNet(List.of()));
    }

    @Test
    void hostForwardsInBhyvesSyntaxBindLoopbackUnlessAnAddressIsGiven() {
        var forwards = ((VirtioNetOptions.UserNet) VirtioNetOptions.parse(
                "slirp,hostfwd=tcp::9000-:9000,hostfwd=udp:0.0.0.0:5353-:53;tcp:[::1]:2222-:22").backend()).forwards();
        assertThat(forwards).containsExactly(
                new VirtioNetOptions.HostForward(false, "127.0.0.1", 9000, 9000),
                new VirtioNetOptions.HostForward(true, "0.0.0.0", 5353, 53),
                new VirtioNetOptions.HostForward(false, "::1", 2222, 22));
        assertThat(((VirtioNetOptions.UserNet) VirtioNetOptions.parse("hostfwd=tcp:127.0.0.1:80-:8080").backend()).forwards())
                .containsExactly(new VirtioNetOptions.HostForward(false, "127.0.0.1", 80, 8080));
    }

    @Test
    void aMalformedHostForwardIsRefusedNamingIt() {
        refused("hostfwd=tcp::9000", "virtio-net: hostfwd=tcp::9000: expected tcp:HOSTADDR:HOSTPORT-:GUESTPORT (or udp:...; HOSTADDR may be empty)");
        refused("hostfwd=sctp::1-:2", "virtio-net: hostfwd=sctp::1-:2: the protocol is tcp or udp, not 'sctp'");
        refused("hostfwd=tcp::0-:22", "virtio-net: hostfwd=tcp::0-:22: '0' is not a port (1-65535)");
        refused("hostfwd=tcp::22-:70000", "virtio-net: hostfwd=tcp::22-:70000: '70000' is not a port (1-65535)");
        refused("hostfwd=tcp::22-10.0.2.15:22", "virtio-net: hostfwd=tcp::22-10.0.2.15:22: leave the guest address out (passt forwards to the guest's one address)");
        refused("tap0,hostfwd=tcp::22-:22", "virtio-net: hostfwd= belongs to user-mode networking (slirp, the default), not to tap0");
        refused("slirp,tap0", "virtio-net: give one backend: slirp or tap0");
        refused("slirp=1", "virtio-net: slirp takes no value (hostfwd= is its own option)");
        refused("slirp,queues=2", "virtio-net: queues=2 needs a tap backend (a socket or slirp is one queue)");
    }

    @Test
    void unknownOptionsAreNamed() {
        refused("tap0,bogus", "virtio-net: unknown option 'bogus' (known: TAPNAME, tap=, socket=, peer=, slirp, hostfwd=, mac=, queues=)");
        refused("eth0", "virtio-net: unknown option 'eth0' (known: TAPNAME, tap=, socket=, peer=, slirp, hostfwd=, mac=, queues=)");
        refused("tap0,tap1", "virtio-net: unknown option 'tap1' (known: TAPNAME, tap=, socket=, peer=, slirp, hostfwd=, mac=, queues=)");
        refused("tap0,speed=10", "virtio-net: unknown option 'speed=10' (known: TAPNAME, tap=, socket=, peer=, slirp, hostfwd=, mac=, queues=)");
    }

    @Test
    void socketAndPeerGoTogetherAndNotWithATap() {
        refused("socket=udp:127.0.0.1:5000", "virtio-net: socket=udp:127.0.0.1:5000 needs peer= (where frames go)");
        refused("tap0,peer=127.0.0.1:5001", "virtio-net: peer= belongs to a socket= backend");
        refused("tap0,socket=udp:127.0.0.1:5000,peer=127.0.0.1:5001", "virtio-net: give a tap or a socket, not both");
        refused("socket=udp:127.0.0.1:5000,peer=127.0.0.1:5001,tap=tap0", "virtio-net: give a tap or a socket, not both");
        refused("socket=tcp:127.0.0.1:5000,peer=127.0.0.1:5001", "virtio-net: socket=tcp:127.0.0.1:5000: use udp:HOST:PORT or unix:PATH");
    }

    @Test
    void badAndMulticastMacsAreRefused() {
        for (String bad : new String[] {"02:00:00:00:00", "02:00:00:00:00:00:00", "2:0:0:0:0:0", "zz:00:00:00:00:00", "02-00-00-00-00-00", ""}) {
            refused("tap0,mac=" + bad, "virtio-net: mac=" + bad + " is not a MAC address (xx:xx:xx:xx:xx:xx)");
        }
        refused("tap0,mac=01:00:5e:00:00:01", "virtio-net: mac=01:00:5e:00:00:01 is a multicast address");
        refused("tap0,mac=ff:ff:ff:ff:ff:ff", "virtio-net: mac=ff:ff:ff:ff:ff:ff is a multicast address");
    }

    @Test
    void interfaceNamesHaveOneToFifteenCharacters() {
        String sixteen = "t".repeat(16);
        refused("tap=" + sixteen, "virtio-net: '" + sixteen + "' is not a network interface name (1-15 characters)");
        refused("tap" + "0".repeat(13), "virtio-net: 'tap0000000000000' is not a network interface name (1-15 characters)");
        refused("tap=", "virtio-net: '' is not a network interface name (1-15 characters)");
    }

    @Test
    void aDerivedMacIsStableForOneSeedDiffersForAnotherAndIsALocalUnicastAddress() {
        VirtioNetOptions o = VirtioNetOptions.parse("tap0");
        byte[] first = o.macOr("0:4.0/tap0");
        assertThat(VirtioNetOptions.parse("tap0").macOr("0:4.0/tap0")).isEqualTo(first);
        // Pinned: a guest keeps the same MAC (and interface name, DHCP lease) across jhyve versions.
        assertThat(VirtioNetOptions.format(first)).isEqualTo("d6:98:8f:f7:2a:cf");
        byte[] other = o.macOr("0:5.0/tap0");
        assertThat(VirtioNetOptions.format(other)).isEqualTo("a6:ba:22:cd:79:22");
        for (String seed : new String[] {"0:4.0/tap0", "0:5.0/tap0", "", "0:31.7/socket=unix:/x,peer=/y", "a", "b", "c"}) {
            byte[] m = o.macOr(seed);
            assertThat(m).as(seed).hasSize(6);
            assertThat(m[0] & 0x02).as("%s: locally administered", seed).isEqualTo(0x02);
            assertThat(m[0] & 0x01).as("%s: unicast", seed).isZero();
        }
        assertThat(o.macOr("a")).isNotEqualTo(o.macOr("b"));
    }
}

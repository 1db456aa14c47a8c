package org.jhyve.gdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PacketDecoderTest {
    private static List<Incoming> decode(String bytes) {
        return decode(bytes.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static List<Incoming> decode(byte[] bytes) {
        PacketDecoder decoder = new PacketDecoder();
        List<Incoming> items = new ArrayList<>();
        for (byte b : bytes) decoder.accept(b).ifPresent(items::add);
        return items;
    }

    @Test
    void checksumIsTheSumOfThePayloadBytesModulo256() {
        assertThat(new String(PacketFrames.frame("OK"), StandardCharsets.ISO_8859_1)).isEqualTo("$OK#9a");
        assertThat(new String(PacketFrames.frame(""), StandardCharsets.ISO_8859_1)).isEqualTo("$#00");
        assertThat(new String(PacketFrames.frame("qSupported"), StandardCharsets.ISO_8859_1)).isEqualTo("$qSupported#37");
    }

    @Test
    void framingEscapesTheFourSpecialBytesAndChecksumsWhatIsSent() {
        // '}' 0x7d, '#' 0x23, '$' 0x24, '*' 0x2a travel as '}' then the byte XOR 0x20.
        String framed = new String(PacketFrames.frame("a}b#c$d*"), StandardCharsets.ISO_8859_1);
        assertThat(framed).startsWith("$a}]b}\u0003c}\u0004d}\n#");
        String sent = framed.substring(1, framed.lastIndexOf('#'));
        assertThat(framed.substring(framed.length() - 2)).isEqualTo(String.format("%02x", PacketFrames.checksum(sent)));
    }

    @Test
    void aFramedPayloadDecodesToItself() {
        String binary = "X1000,4:" + new String(new byte[] {'}', '#', '$', (byte) 0xff}, StandardCharsets.ISO_8859_1);
        assertThat(decode(PacketFrames.frame(binary))).containsExactly(new Incoming.Packet(binary));
    }

    @Test
    void acksNaksAndCtrlCOutsidePackets() {
        assertThat(decode("+-\u0003junk$?#3f"))
                .containsExactly(new Incoming.Ack(), new Incoming.Nak(), new Incoming.Interrupt(), new Incoming.Packet("?"));
    }

    @Test
    void aBadChecksumIsReportedAndTheNextPacketStillDecodes() {
        assertThat(decode("$g#00$g#67")).satisfiesExactly(
                bad -> assertThat(bad).isInstanceOf(Incoming.Corrupt.class),
                good -> assertThat(good).isEqualTo(new Incoming.Packet("g")));
        assertThat(decode("$g#zz")).singleElement().isInstanceOf(Incoming.Corrupt.class);
    }

    @Test
    void aDollarInsideAPacketStartsOver() {
        assertThat(decode("$m10$?#3f")).containsExactly(new Incoming.Packet("?"));
    }

    @Test
    void aPacketEndingInAnEscapeIsCorrupt() {
        assertThat(decode("$a}#de")).singleElement().isInstanceOf(Incoming.Corrupt.class);
    }

    @Test
    void anEndlessPacketIsCutOff() {
        String huge = "$" + "a".repeat(PacketDecoder.MAX_PAYLOAD + 1);
        assertThat(decode(huge)).singleElement().isInstanceOf(Incoming.Corrupt.class);
    }
}

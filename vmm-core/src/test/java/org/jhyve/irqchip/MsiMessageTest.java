package org.jhyve.irqchip;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MsiMessageTest {
    @ParameterizedTest(name = "address {0} data {1}")
    @CsvSource({
            // address,  data,    dest, logical, mode,            vector, level, assert
            "0xfee00000, 0x0041, 0,    false, FIXED,           0x41, false, true",
            "0xfee03000, 0x00ec, 3,    false, FIXED,           0xec, false, true",
            "0xfeeff000, 0x0030, 255,  false, FIXED,           0x30, false, true",
            "0xfee05004, 0x0031, 5,    true,  FIXED,           0x31, false, true",
            "0xfee0500c, 0x0031, 5,    true,  LOWEST_PRIORITY, 0x31, false, true",
            "0xfee05008, 0x0031, 5,    false, FIXED,           0x31, false, true",
            "0xfee01000, 0x0131, 1,    false, LOWEST_PRIORITY, 0x31, false, true",
            "0xfee01000, 0x0400, 1,    false, NMI,             0x00, false, true",
            "0xfee01000, 0x0700, 1,    false, EXTINT,          0x00, false, true",
            "0xfee01000, 0xc051, 1,    false, FIXED,           0x51, true,  true",
            "0xfee01000, 0x8051, 1,    false, FIXED,           0x51, true,  false",
            "0xfee01000, 0x4051, 1,    false, FIXED,           0x51, false, true",
            "0xfee01000, 0xffff0051, 1, false, FIXED,          0x51, false, true",
    })
    void decodesTheCompatibilityFormat(String address, String data, int destination, boolean logical, DeliveryMode mode,
                                       String vector, boolean level, boolean assertLevel) {
        ApicMessage m = MsiMessage.decode(Long.decode(address), Long.decode(data).intValue()).orElseThrow();
        assertThat(m.destination()).isEqualTo(destination);
        assertThat(m.logical()).isEqualTo(logical);
        assertThat(m.mode()).isEqualTo(mode);
        assertThat(m.vector()).isEqualTo(Integer.decode(vector));
        assertThat(m.levelTriggered()).isEqualTo(level);
        assertThat(m.assert_()).isEqualTo(assertLevel);
        assertThat(m.shorthand()).isEqualTo(ApicMessage.Shorthand.NONE);
        assertThat(m.sourceApicId()).isEqualTo(-1);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 0xfedfffffL, 0xfef00000L, 0x1_fee00000L, 0xffff_ffff_fee0_0000L, -1})
    void anAddressOutsideTheWindowIsNoMsi(long address) {
        assertThat(MsiMessage.decode(address, 0x41)).isEmpty();
    }
}

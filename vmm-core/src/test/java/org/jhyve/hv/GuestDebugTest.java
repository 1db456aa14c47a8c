package org.jhyve.hv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.jhyve.hv.GuestDebug.HardwareBreakpoint;
import org.jhyve.hv.GuestDebug.HardwareBreakpoint.Kind;
import org.junit.jupiter.api.Test;

class GuestDebugTest {
    @Test
    void debugControlEnablesEachSlotWithItsKindAndLength() {
        GuestDebug debug = new GuestDebug(false, false, List.of(
                new HardwareBreakpoint(0x100000, Kind.EXECUTE, 1),
                new HardwareBreakpoint(0x2000, Kind.WRITE, 4),
                new HardwareBreakpoint(0x3000, Kind.ACCESS, 8)));
        // G0 | G1 (RW1 = 01, LEN1 = 11) | G2 (RW2 = 11, LEN2 = 10), plus GE and bit 10.
        assertThat(debug.debugControl()).isEqualTo(0x600L | 0x2 | 0x8 | 0x1L << 20 | 0x3L << 22 | 0x20 | 0x3L << 24 | 0x2L << 26);
        assertThat(debug.enabled()).isTrue();
    }

    @Test
    void offInterceptsNothing() {
        assertThat(GuestDebug.OFF.enabled()).isFalse();
        assertThat(GuestDebug.OFF.withSingleStep(true).enabled()).isTrue();
        assertThat(new GuestDebug(false, true, List.of()).enabled()).isTrue();
    }

    @Test
    void impossibleDebugRegisterSettingsAreRefused() {
        assertThatThrownBy(() -> new HardwareBreakpoint(0x1000, Kind.EXECUTE, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HardwareBreakpoint(0x1002, Kind.WRITE, 4)).hasMessageContaining("aligned");
        assertThatThrownBy(() -> new HardwareBreakpoint(0x1000, Kind.WRITE, 3)).isInstanceOf(IllegalArgumentException.class);
        var five = List.of(new HardwareBreakpoint(0, Kind.EXECUTE, 1), new HardwareBreakpoint(1, Kind.EXECUTE, 1),
                new HardwareBreakpoint(2, Kind.EXECUTE, 1), new HardwareBreakpoint(3, Kind.EXECUTE, 1), new HardwareBreakpoint(4, Kind.EXECUTE, 1));
        assertThatThrownBy(() -> new GuestDebug(false, false, five)).isInstanceOf(IllegalArgumentException.class);
    }
}

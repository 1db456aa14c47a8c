package org.jhyve.pci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MsixTableTest {
    final List<String> sent = new ArrayList<>();
    final MsixTable table = new MsixTable(3, (address, data) -> sent.add(Long.toHexString(address) + "/" + Integer.toHexString(data)));

    void program(int vector, long address, int data, boolean masked) {
        table.writeTable(vector * 16L, 8, address);
        table.writeTable(vector * 16L + 8, 4, data);
        table.writeTable(vector * 16L + 12, 4, masked ? 1 : 0);
    }

    @Test
    void vectorsStartMaskedAndNothingIsSentWhileMsixIsOff() {
        assertThat(table.readTable(12, 4)).isEqualTo(1);
        program(0, 0xfee0_0000L, 0x30, false);
        assertThat(table.signal(0)).as("MSI-X off: caller falls back to INTx").isFalse();
        assertThat(sent).isEmpty();
    }

    @Test
    void anUnmaskedVectorSendsItsMessage() {
        table.setControl(true, false);
        program(1, 0x1_fee0_1000L, 0x4041, false);
        assertThat(table.signal(1)).isTrue();
        assertThat(sent).containsExactly("1fee01000/4041");
        assertThat(table.signal(7)).as("no such vector").isFalse();
    }

    @Test
    void maskedVectorsLatchPendingAndUnmaskingDeliversOnce() {
        table.setControl(true, false);
        program(2, 0xfee0_0000L, 0x50, true);
        assertThat(table.signal(2)).isTrue();
        assertThat(table.signal(2)).isTrue();
        assertThat(sent).isEmpty();
        assertThat(table.isPending(2)).isTrue();
        assertThat(table.readPba(0, 8)).isEqualTo(1L << 2);
        table.writeTable(2 * 16 + 12, 4, 0);
        assertThat(sent).containsExactly("fee00000/50");
        assertThat(table.readPba(0, 8)).isZero();
    }

    @Test
    void theFunctionMaskHoldsEveryVector() {
        program(0, 0xfee0_0000L, 0x31, false);
        table.setControl(true, true);
        table.signal(0);
        assertThat(sent).isEmpty();
        table.setControl(true, false);
        assertThat(sent).containsExactly("fee00000/31");
    }

    @Test
    void oddAccessesAreIgnoredAndReadAllOnes() {
        table.writeTable(1, 4, 0x1234);
        table.writeTable(0, 2, 0x1234);
        table.writeTable(3 * 16, 4, 0x1234); // past the table
        assertThat(table.readTable(0, 8)).isZero();
        assertThat(table.readTable(2, 4)).isEqualTo(0xffffffffL);
        assertThat(table.readTable(3 * 16, 4)).isEqualTo(0xffffffffL);
        assertThat(table.readPba(8, 8)).isEqualTo(-1L);
    }
}

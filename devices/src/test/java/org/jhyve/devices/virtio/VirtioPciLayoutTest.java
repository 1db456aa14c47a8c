package org.jhyve.devices.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.devices.virtio.VirtioPciLayout.*;

import org.jhyve.devices.virtio.VirtioPciLayout.Capability;
import org.jhyve.devices.virtio.VirtioPciLayout.WindowAccess;
import org.junit.jupiter.api.Test;

/** BAR0's layout, the vendor capabilities and the PCI-configuration window's decoding, without a PCI function. */
class VirtioPciLayoutTest {
    @Test
    void theCapabilityFieldsAndTypesAreTheSpecs() {
        // virtio 1.2, 4.1.4: struct virtio_pci_cap, the notify and pci_cfg extensions, cfg_type values.
        assertThat(new int[] {CAP_VENDOR, CAP_LEN, CFG_TYPE, CAP_BAR, CAP_OFFSET, CAP_LENGTH, CAP_SIZE, NOTIFY_OFF_MULTIPLIER, PCI_CFG_DATA})
                .containsExactly(0x09, 2, 3, 4, 8, 12, 16, 16, 16);
        assertThat(new int[] {CFG_COMMON, CFG_NOTIFY, CFG_ISR, CFG_DEVICE, CFG_PCI}).containsExactly(1, 2, 3, 4, 5);
    }

    @Test
    void bar0HoldsEachStructureInItsOwnPageBelowTheMsixTable() {
        assertThat(new int[] {COMMON, ISR, DEVICE_CONFIG, NOTIFY, MSIX_TABLE, MSIX_PBA, BAR_SIZE})
                .containsExactly(0x0000, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x8000);
        assertThat(COMMON + CommonConfig.LENGTH).isLessThanOrEqualTo(ISR);
    }

    @Test
    void theCapabilitiesPointAtEveryStructureInChainOrder() {
        assertThat(capabilities(3, 10)).containsExactly(
                new Capability(CFG_COMMON, COMMON, 0x38, 16),
                new Capability(CFG_NOTIFY, NOTIFY, 12, 20),
                new Capability(CFG_ISR, ISR, 1, 16),
                new Capability(CFG_DEVICE, DEVICE_CONFIG, 10, 16),
                new Capability(CFG_PCI, 0, 0, 20));
        assertThat(capabilities(1, 0)).as("no device configuration, no capability for it")
                .extracting(Capability::type).containsExactly(CFG_COMMON, CFG_NOTIFY, CFG_ISR, CFG_PCI);
    }

    @Test
    void theWindowReachesBar0WithAlignedAccessesOfOneTwoOrFourBytes() {
        assertThat(window(0, 0x2000, 4)).isEqualTo(new WindowAccess(0x2000, 4));
        assertThat(window(0, 0x14, 1)).isEqualTo(new WindowAccess(0x14, 1));
        assertThat(window(0, BAR_SIZE - 2, 2)).isEqualTo(new WindowAccess(BAR_SIZE - 2, 2));
        assertThat(window(1, 0, 4)).as("another BAR").isNull();
        for (int length : new int[] {0, 3, 8, -4}) assertThat(window(0, 0, length)).as("length %d", length).isNull();
        assertThat(window(0, 0x2002, 4)).as("misaligned").isNull();
        assertThat(window(0, -4, 4)).as("negative").isNull();
        assertThat(window(0, BAR_SIZE, 4)).as("past the BAR").isNull();
        assertThat(window(0, 0x7fff_fffc, 4)).as("offset + length overflows an int").isNull();
    }
}

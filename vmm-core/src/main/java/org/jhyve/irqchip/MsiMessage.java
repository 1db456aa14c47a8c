package org.jhyve.irqchip;

import java.util.Optional;

/**
 * Decodes a message-signalled interrupt (a device's DWORD write to the 0xFEExxxxx window) into the
 * {@link ApicMessage} the APIC bus carries (SDM 11.11, compatibility format).
 *
 * <p>Address: destination ID in bits 19:12, redirection hint (RH) bit 3, destination mode (DM) bit 2. Data:
 * vector 7:0, delivery mode 10:8, level 14, trigger mode 15. DM selects logical destination whatever RH says (as
 * KVM and QEMU read it, and as guests program it); RH with DM set makes a FIXED message lowest-priority among the
 * logical destinations, as the SDM describes redirection. Not decoded: the remappable format (bit 4) and the
 * extended destination ID some hypervisors put in address bits 11:5, so an MSI reaches APIC IDs 0-254 only.
 *
 * <p>Threading rules: stateless.
 */
public final class MsiMessage {
    private static final long WINDOW_BASE = 0xfee0_0000L;
    private static final long WINDOW_LAST = 0xfeef_ffffL;

    private MsiMessage() {
    }

    /** The message for a write of {@code data} to {@code address}; empty when the address is not in the MSI window. */
    public static Optional<ApicMessage> decode(long address, int data) {
        if (address < WINDOW_BASE || address > WINDOW_LAST) return Optional.empty();
        int destination = (int) (address >>> 12) & 0xff;
        boolean redirectionHint = (address & (1 << 3)) != 0;
        boolean logical = (address & (1 << 2)) != 0;
        int vector = data & 0xff;
        DeliveryMode mode = DeliveryMode.of(data >>> 8);
        boolean levelTriggered = (data & (1 << 15)) != 0;
        // An edge-triggered message is always an assert; a level-triggered one carries the line's state.
        boolean assertLevel = !levelTriggered || (data & (1 << 14)) != 0;
        if (redirectionHint && logical && mode == DeliveryMode.FIXED) mode = DeliveryMode.LOWEST_PRIORITY;
        return Optional.of(new ApicMessage(destination, logical, mode, vector, levelTriggered, assertLevel,
                ApicMessage.Shorthand.NONE, -1));
    }
}

package org.jhyve.devices.ahci;

/**
 * The HBA could not move a command's data or structures: a guest address outside RAM (a master abort on a real
 * bus), or a PRD table too short for the transfer. Thrown before the backend is touched where it can be, and
 * caught by the port, which turns it into a fatal port error; it never leaves the device model.
 */
final class DmaFault extends RuntimeException {
    enum Kind {
        /** A guest-physical range outside RAM: PxIS.HBFS. */
        OUTSIDE_GUEST_RAM,
        /** The PRD table describes fewer bytes than the command moves: PxIS.OFS with PxIS.IFS. */
        PRDT_TOO_SHORT
    }

    private final Kind kind;
    private final long guestAddress;

    DmaFault(Kind kind, long guestAddress, String message) {
        super(message, null, false, false);
        this.kind = kind;
        this.guestAddress = guestAddress;
    }

    static DmaFault outsideRam(String what, long address, long length) {
        return new DmaFault(Kind.OUTSIDE_GUEST_RAM, address,
                String.format("%s at guest address 0x%x (+0x%x) is outside guest RAM", what, address, length));
    }

    static DmaFault prdtTooShort(long tableAddress, long described, long needed) {
        return new DmaFault(Kind.PRDT_TOO_SHORT, tableAddress,
                String.format("PRD table at guest address 0x%x describes %d bytes, the command moves %d", tableAddress, described, needed));
    }

    Kind kind() { return kind; }

    long guestAddress() { return guestAddress; }
}

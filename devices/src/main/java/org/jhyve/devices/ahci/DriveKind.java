package org.jhyve.devices.ahci;

/** The two kinds of drive an AHCI port can hold, with their {@code -s} names as bhyve spells them. */
public enum DriveKind {
    /** A SATA disk: {@code -s N,ahci-hd,PATH} or {@code hd:PATH} in the multi-port form. */
    HD("ahci-hd", "hd:"),
    /** An ATAPI CD-ROM, always read-only: {@code -s N,ahci-cd,PATH} or {@code cd:PATH}. */
    CD("ahci-cd", "cd:");

    private final String emulation;
    private final String portPrefix;

    DriveKind(String emulation, String portPrefix) {
        this.emulation = emulation;
        this.portPrefix = portPrefix;
    }

    public String emulation() { return emulation; }

    /** The prefix that starts a port of this kind in {@code -s N,ahci,hd:PATH,cd:PATH}. */
    public String portPrefix() { return portPrefix; }
}

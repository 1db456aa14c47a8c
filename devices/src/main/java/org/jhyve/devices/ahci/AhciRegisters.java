package org.jhyve.devices.ahci;

/**
 * Register offsets and bits of an AHCI 1.3 HBA, named as the specification names them. Generic host control
 * registers are offsets into ABAR; port registers are offsets into a port's 128-byte block, which starts at
 * {@code PORT_BASE + PORT_STRIDE * port}.
 */
final class AhciRegisters {
    private AhciRegisters() {}

    // ---- generic host control (AHCI 1.3, 3.1) ----
    static final int CAP = 0x00, GHC = 0x04, IS = 0x08, PI = 0x0c, VS = 0x10;
    static final int CCC_CTL = 0x14, CCC_PORTS = 0x18, EM_LOC = 0x1c, EM_CTL = 0x20, CAP2 = 0x24, BOHC = 0x28;
    static final int PORT_BASE = 0x100, PORT_STRIDE = 0x80;

    static final int CAP_S64A = 1 << 31, CAP_SNCQ = 1 << 30, CAP_SCLO = 1 << 24, CAP_SAM = 1 << 18;
    static final int CAP_ISS_SHIFT = 20, CAP_NCS_SHIFT = 8;
    /** Interface speed: 3 is Gen3 (6 Gb/s); the number is only reported, data moves at memory speed. */
    static final int GEN3 = 3;
    static final int GHC_HR = 1, GHC_IE = 1 << 1, GHC_AE = 1 << 31;
    static final int VERSION_1_3 = 0x0001_0300;

    // ---- port registers (AHCI 1.3, 3.3) ----
    static final int P_CLB = 0x00, P_CLBU = 0x04, P_FB = 0x08, P_FBU = 0x0c, P_IS = 0x10, P_IE = 0x14, P_CMD = 0x18;
    static final int P_TFD = 0x20, P_SIG = 0x24, P_SSTS = 0x28, P_SCTL = 0x2c, P_SERR = 0x30, P_SACT = 0x34, P_CI = 0x38;
    static final int P_SNTF = 0x3c, P_FBS = 0x40, P_DEVSLP = 0x44;

    /** PxIS / PxIE bits. */
    static final int IS_DHRS = 1, IS_PSS = 1 << 1, IS_DSS = 1 << 2, IS_SDBS = 1 << 3, IS_UFS = 1 << 4, IS_DPS = 1 << 5;
    static final int IS_PCS = 1 << 6, IS_DMPS = 1 << 7, IS_PRCS = 1 << 22, IS_IPMS = 1 << 23, IS_OFS = 1 << 24;
    static final int IS_INFS = 1 << 26, IS_IFS = 1 << 27, IS_HBDS = 1 << 28, IS_HBFS = 1 << 29, IS_TFES = 1 << 30, IS_CPDS = 1 << 31;
    /** The PxIS/PxIE bits that exist (bit 25 and bits 8-21 are reserved). */
    static final int IS_IMPLEMENTED = 0xfdc0_00ff;

    /** PxCMD bits. */
    static final int CMD_ST = 1, CMD_SUD = 1 << 1, CMD_POD = 1 << 2, CMD_CLO = 1 << 3, CMD_FRE = 1 << 4;
    static final int CMD_CCS_SHIFT = 8, CMD_FR = 1 << 14, CMD_CR = 1 << 15;
    static final int CMD_APSTE = 1 << 23, CMD_ATAPI = 1 << 24, CMD_DLAE = 1 << 25, CMD_ALPE = 1 << 26, CMD_ASP = 1 << 27;
    /** PxCMD bits the HBA keeps as software wrote them (ST, CLO, FRE and ICC have side effects and are handled apart). */
    static final int CMD_PLAIN_BITS = CMD_APSTE | CMD_ATAPI | CMD_DLAE | CMD_ALPE | CMD_ASP;

    /** PxSSTS / PxSCTL fields. */
    static final int DET_MASK = 0xf, DET_PRESENT_PHY_UP = 3, DET_COMRESET = 1, SPD_SHIFT = 4, IPM_ACTIVE = 1 << 8;

    // ---- memory structures (AHCI 1.3, 4.2) ----
    static final int COMMAND_HEADER_SIZE = 32, SLOTS = 32;
    static final int TABLE_CFIS = 0x00, TABLE_ACMD = 0x40, TABLE_PRDT = 0x80, PRD_ENTRY_SIZE = 16;
    static final int CFIS_BYTES = 64, ACMD_BYTES = 16;
    /** Where each kind of received FIS lands in the 256-byte received-FIS area. */
    static final int RFIS_DMA_SETUP = 0x00, RFIS_PIO_SETUP = 0x20, RFIS_D2H = 0x40, RFIS_SDB = 0x58, RFIS_SIZE = 0x100;
}

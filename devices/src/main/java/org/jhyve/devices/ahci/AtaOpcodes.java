package org.jhyve.devices.ahci;

/** The ATA command opcodes the emulated devices know (ATA8-ACS, ACS-2 for DATA SET MANAGEMENT). */
final class AtaOpcodes {
    private AtaOpcodes() {}

    static final int DATA_SET_MANAGEMENT = 0x06, DEVICE_RESET = 0x08;
    static final int READ_SECTORS = 0x20, READ_SECTORS_EXT = 0x24, READ_DMA_EXT = 0x25, READ_LOG_EXT = 0x2f;
    static final int WRITE_SECTORS = 0x30, WRITE_SECTORS_EXT = 0x34, WRITE_DMA_EXT = 0x35, WRITE_DMA_FUA_EXT = 0x3d;
    static final int READ_VERIFY_SECTORS = 0x40, READ_VERIFY_SECTORS_EXT = 0x42;
    static final int READ_FPDMA_QUEUED = 0x60, WRITE_FPDMA_QUEUED = 0x61;
    static final int EXECUTE_DEVICE_DIAGNOSTIC = 0x90, PACKET = 0xa0, IDENTIFY_PACKET_DEVICE = 0xa1;
    static final int READ_DMA = 0xc8, WRITE_DMA = 0xca;
    static final int STANDBY_IMMEDIATE = 0xe0, IDLE_IMMEDIATE = 0xe1, STANDBY = 0xe2, IDLE = 0xe3, CHECK_POWER_MODE = 0xe5;
    static final int FLUSH_CACHE = 0xe7, FLUSH_CACHE_EXT = 0xea, IDENTIFY_DEVICE = 0xec, SET_FEATURES = 0xef;

    /** SET FEATURES subcommands (in the features register). */
    static final int SF_ENABLE_WRITE_CACHE = 0x02, SF_SET_TRANSFER_MODE = 0x03, SF_DISABLE_WRITE_CACHE = 0x82;
    static final int SF_DISABLE_READ_LOOK_AHEAD = 0x55, SF_ENABLE_READ_LOOK_AHEAD = 0xaa;
    static final int SF_DISABLE_REVERTING_DEFAULTS = 0x66, SF_ENABLE_REVERTING_DEFAULTS = 0xcc;

    /** CHECK POWER MODE's answer in the count register: active or idle. */
    static final int POWER_ACTIVE_OR_IDLE = 0xff;
}

package org.jhyve.devices.platform;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.jhyve.bus.BusDevice;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PlatformDevice;

/**
 * The legacy I/O interface of QEMU's firmware configuration device (bhyve's {@code -l fwcfg,qemu}), with the
 * few items test programs read: a 16-bit selector written to port 0x510 picks an item, and each byte read
 * from port 0x511 is its next byte (0 past its end, and for items that do not exist). kvm-unit-tests read
 * the CPU count here (FW_CFG_NB_CPUS) to know how many processors to wait for.
 *
 * <p>Items: 0x00 the signature "QEMU", 0x01 the interface ID (1: the traditional interface, no DMA),
 * 0x03 the RAM size (u64), 0x05 the CPU count (u16), 0x0f the maximum CPU count (u16). Data-port writes are
 * ignored, as QEMU has done since 2.4.
 *
 * <p>Threads: the selector and read position are one piece of state, guarded by this object's monitor
 * (guests serialise their accesses with a lock of their own anyway).
 */
public final class QemuFwCfg implements PlatformDevice {
    public static final int SELECTOR_PORT = 0x510;
    public static final int DATA_PORT = 0x511;
    public static final int SIGNATURE = 0x00, ID = 0x01, RAM_SIZE = 0x03, NB_CPUS = 0x05, MAX_CPUS = 0x0f;

    /** Written once by {@link #install}, before any vCPU runs. */
    private volatile Map<Integer, byte[]> items = Map.of();
    /** Guarded by this. */
    private byte[] selected = new byte[0];
    /** Guarded by this. */
    private int position;

    @Override
    public void install(MachineContext machine) {
        items = Map.of(
                SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII),
                ID, le(4, 1),
                RAM_SIZE, le(8, machine.memory().totalSize()),
                NB_CPUS, le(2, machine.vcpuCount()),
                MAX_CPUS, le(2, machine.vcpuCount()));
        machine.ioPorts().register(SELECTOR_PORT, 2, "fw_cfg", new BusDevice() {
            @Override
            public long read(long offset, int size) {
                return offset == 1 && size == 1 ? readData() : 0;
            }

            @Override
            public void write(long offset, int size, long value) {
                // QEMU's selector register is 16 bits at 0x510; 0x511 is the data port, read-only here.
                if (offset == 0 && size >= 2) select((int) (value & 0xffff));
            }
        });
    }

    synchronized void select(int key) {
        selected = items.getOrDefault(key, new byte[0]);
        position = 0;
    }

    synchronized int readData() {
        return position < selected.length ? selected[position++] & 0xff : 0;
    }

    private static byte[] le(int bytes, long value) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
        byte[] out = new byte[bytes];
        System.arraycopy(b.array(), 0, out, 0, bytes);
        return out;
    }
}

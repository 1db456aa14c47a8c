package org.jhyve.devices.platform;

import org.jhyve.bus.BusDevice;
import org.jhyve.vm.ExitStatus;
import org.jhyve.vm.MachineContext;
import org.jhyve.vm.PlatformDevice;

/**
 * Just enough of the i8042 keyboard controller for a reboot: command 0xFE on port 0x64 pulses the CPU
 * reset line, which Linux uses for {@code reboot=k} (its default on PCs). The controller has no keyboard:
 * status reads 0 (both buffers empty) and data reads 0, so a guest's probe sees no device behind it.
 */
public final class KeyboardControllerReset implements PlatformDevice {
    public static final int DATA_PORT = 0x60;
    public static final int COMMAND_PORT = 0x64;
    public static final int PULSE_RESET = 0xfe;

    @Override
    public void install(MachineContext machine) {
        BusDevice silent = new BusDevice() {
            @Override public long read(long offset, int size) { return 0; }

            @Override public void write(long offset, int size, long value) { }
        };
        machine.ioPorts().register(DATA_PORT, 1, "i8042-data", silent);
        machine.ioPorts().register(COMMAND_PORT, 1, "i8042-command", new BusDevice() {
            @Override public long read(long offset, int size) { return 0; }

            @Override
            public void write(long offset, int size, long value) {
                if ((value & 0xff) == PULSE_RESET) machine.requestExit(ExitStatus.RESET, "reset through the i8042 (port 0x64)");
            }
        });
    }
}

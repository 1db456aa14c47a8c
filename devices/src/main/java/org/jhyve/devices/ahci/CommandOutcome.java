package org.jhyve.devices.ahci;

/**
 * How a device's {@link SataDevice#execute} ended, as data, so the worker can run it without the HBA's lock and
 * hand the result to the port under it: a completion, a DMA fault the guest caused, or a device-model bug.
 */
sealed interface CommandOutcome {
    record Done(Completion completion) implements CommandOutcome {}

    record Faulted(DmaFault fault) implements CommandOutcome {}

    record Crashed(Throwable cause) implements CommandOutcome {}

    static CommandOutcome execute(SataDevice device, AtaCommand command) {
        try {
            return new Done(device.execute(command));
        } catch (DmaFault f) {
            return new Faulted(f);
        } catch (RuntimeException | Error e) {
            // Whatever the device model throws fails this port, never the worker thread: the port must not hang.
            return new Crashed(e);
        }
    }
}

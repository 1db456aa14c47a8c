package org.jhyve.vm;

import org.jhyve.bus.Bus;
import org.jhyve.hv.VmExit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the exits that are device accesses: port IO and MMIO go to their bus. A device that throws is a
 * device fault: logged with the guest address and contained (the access reads all-ones), never fatal to
 * the VMM. Independent of any hypervisor, so it is unit-tested on heap segments.
 */
public final class ExitHandler {
    private static final Logger log = LoggerFactory.getLogger(ExitHandler.class);

    /** What to do when the guest touches an address no device claims (bhyve's {@code -e}). */
    @FunctionalInterface
    public interface UnhandledAccess {
        void report(String description);
    }

    private final Bus ioPorts;
    private final Bus mmio;
    private final UnhandledAccess unhandled;

    /** Unclaimed accesses read all-ones and drop writes, as on a real bus. */
    public ExitHandler(Bus ioPorts, Bus mmio) {
        this(ioPorts, mmio, null);
    }

    /** Unclaimed accesses are also reported to {@code unhandled} (null: not reported). */
    public ExitHandler(Bus ioPorts, Bus mmio, UnhandledAccess unhandled) {
        this.ioPorts = ioPorts;
        this.mmio = mmio;
        this.unhandled = unhandled;
    }

    public void portIo(VmExit.PortIo io) {
        for (int i = 0; i < io.count(); i++) {
            if (io.write()) {
                guarded(ioPorts, io.port(), io.size(), true, io.value(i));
            } else {
                io.complete(i, guarded(ioPorts, io.port(), io.size(), false, 0));
            }
        }
    }

    public void mmio(VmExit.Mmio access) {
        int size = access.length();
        if (size < 1 || size > 8) {
            log.warn("MMIO access of {} bytes at 0x{} ignored", size, Long.toHexString(access.address()));
            return;
        }
        if (access.write()) {
            guarded(mmio, access.address(), size, true, access.value());
        } else {
            access.complete(guarded(mmio, access.address(), size, false, 0));
        }
    }

    private long guarded(Bus bus, long address, int size, boolean write, long value) {
        if (unhandled != null && bus.lookup(address) == null) {
            unhandled.report(String.format("unhandled %s %s of %d bytes at 0x%x", bus.name(), write ? "write" : "read", size, address));
        }
        try {
            if (write) {
                bus.write(address, size, value);
                return 0;
            }
            return bus.read(address, size);
        } catch (RuntimeException e) {
            var range = bus.lookup(address);
            log.error("device fault: {} {} of {} bytes at 0x{} ({}): {}", bus.name(), write ? "write" : "read", size,
                    Long.toHexString(address), range == null ? "no device" : range.name(), e.toString(), e);
            return Bus.allOnes(size);
        }
    }

}

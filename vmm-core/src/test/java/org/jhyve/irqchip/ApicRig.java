package org.jhyve.irqchip;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Local APICs on an {@link ApicBus} with a manual clock and a guest TSC that runs at 3 GHz on it. Single-threaded. */
final class ApicRig {
    static final long TSC_HZ = 3_000_000_000L;

    final ManualPlatformClock clock = new ManualPlatformClock();
    final ApicBus bus = new ApicBus();
    final List<Integer> eois = new ArrayList<>();
    final TscSource tsc = new TscSource() {
        @Override
        public long hz() {
            return TSC_HZ;
        }

        @Override
        public long now() {
            return clock.nanoTime() * 3;
        }
    };
    private final Map<Integer, Recorder> listeners = new HashMap<>();

    ApicRig() {
        bus.setEoiListener(eois::add);
    }

    /** What one APIC told its vCPU, in order. */
    static final class Recorder implements LocalApicListener {
        final List<String> events = new ArrayList<>();
        int pendingCalls;

        @Override
        public void interruptPending() {
            pendingCalls++;
        }

        @Override
        public void init() {
            events.add("init");
        }

        @Override
        public void startup(int vector) {
            events.add("startup " + Integer.toHexString(vector));
        }
    }

    /** A new APIC on the bus, software-enabled (SVR 0x1FF) as a guest leaves it. */
    LocalApic add(int apicId) {
        LocalApic apic = addDisabled(apicId);
        write(apic, ApicRegisters.SVR, 0x1ff);
        return apic;
    }

    /** A new APIC on the bus, as reset leaves it (software-disabled). */
    LocalApic addDisabled(int apicId) {
        Recorder recorder = new Recorder();
        LocalApic apic = new LocalApic(apicId, apicId == 0, clock, bus, recorder, tsc);
        listeners.put(apicId, recorder);
        bus.register(apic);
        return apic;
    }

    Recorder listener(LocalApic apic) {
        return listeners.get(apic.apicId());
    }

    static void write(LocalApic apic, int offset, int value) {
        apic.writeMmio(offset, 4, Integer.toUnsignedLong(value));
    }

    static int read(LocalApic apic, int offset) {
        return (int) apic.readMmio(offset, 4);
    }

    /** Whether {@code vector}'s bit is set in the 8-word register set starting at {@code base} (IRR, ISR, TMR). */
    static boolean bit(LocalApic apic, int base, int vector) {
        return (read(apic, base + (vector / 32) * 16) & (1 << (vector % 32))) != 0;
    }

    /** The ESR as the guest reads it: write to latch, then read. */
    static int latchEsr(LocalApic apic) {
        write(apic, ApicRegisters.ESR, 0);
        return read(apic, ApicRegisters.ESR);
    }

    /** The vCPU's side: takes the pending vector (if any) into service and returns it, or -1. */
    static int inject(LocalApic apic) {
        int vector = apic.pendingVector();
        if (vector >= 0) apic.accept(vector);
        return vector;
    }

    static void eoi(LocalApic apic) {
        write(apic, ApicRegisters.EOI, 0);
    }

    static ApicMessage fixed(int destination, int vector, boolean level) {
        return ApicMessage.fromDevice(destination, false, DeliveryMode.FIXED, vector, level);
    }
}

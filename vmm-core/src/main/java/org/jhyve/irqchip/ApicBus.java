package org.jhyve.irqchip;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * The APIC bus of one VM: routes each {@link ApicMessage} to the local APICs it addresses and carries
 * level-triggered EOIs to the IOAPIC's EOI listener.
 *
 * <p>Addressing (SDM 11.6.2): a shorthand picks the sender, everyone, or everyone but the sender. Otherwise
 * destination 0xFFFFFFFF, or 0xFF from a sender that is not in x2APIC mode (an xAPIC, the IOAPIC, an MSI), is a
 * broadcast; physical mode compares the APIC ID; logical mode compares with each APIC's LDR in its own model
 * (xAPIC flat or cluster per its DFR, x2APIC cluster). A hardware-disabled APIC is never addressed.
 * LOWEST_PRIORITY delivers to exactly one of the addressed APICs: the one with the lowest processor priority
 * (PPR), and among equals the lowest APIC ID. A message that addresses no APIC is dropped and counted.
 *
 * <p>Threading rules: any method from any thread; it takes no lock of its own while delivering (each APIC guards
 * itself), so an APIC sending an IPI to itself through the bus is fine. {@link #register} is meant for VM
 * construction but is safe at any time (the set of APICs is replaced, copy-on-write).
 */
public final class ApicBus implements InterruptRouter {
    private static final int X2APIC_BROADCAST = 0xffff_ffff;
    private static final int XAPIC_BROADCAST = 0xff;

    private final Object registration = new Object();
    /** Sorted by APIC ID, which makes the lowest-priority tie rule a first-match. */
    private volatile List<LocalApic> apics = List.of();
    private volatile IntConsumer eoiListener = vector -> { };
    private final AtomicLong dropped = new AtomicLong();

    /** Adds {@code apic}; its APIC ID must be new on this bus. */
    public void register(LocalApic apic) {
        synchronized (registration) {
            if (find(apic.apicId()).isPresent()) throw new IllegalArgumentException("APIC ID " + apic.apicId() + " twice");
            List<LocalApic> next = new ArrayList<>(apics);
            next.add(apic);
            next.sort(Comparator.comparingInt(LocalApic::apicId));
            apics = List.copyOf(next);
        }
    }

    /** The APIC with {@code apicId}, if registered. */
    public Optional<LocalApic> find(int apicId) {
        for (LocalApic a : apics) if (a.apicId() == apicId) return Optional.of(a);
        return Optional.empty();
    }

    /** Who is told of EOIs of level-triggered vectors (the IOAPIC); replaces the previous one. */
    public void setEoiListener(IntConsumer listener) {
        eoiListener = listener == null ? vector -> { } : listener;
    }

    /** Messages that addressed no APIC, since construction. */
    public long droppedMessages() {
        return dropped.get();
    }

    @Override
    public void deliver(ApicMessage message) {
        List<LocalApic> targets = targets(message);
        if (targets.isEmpty()) {
            dropped.incrementAndGet();
            return;
        }
        if (message.mode() == DeliveryMode.LOWEST_PRIORITY && targets.size() > 1) {
            targets.get(lowestPriority(targets)).deliver(message);
            return;
        }
        for (LocalApic target : targets) target.deliver(message);
    }

    @Override
    public void endOfInterrupt(int vector) {
        eoiListener.accept(vector);
    }

    private List<LocalApic> targets(ApicMessage message) {
        List<LocalApic> all = apics;
        List<LocalApic> targets = new ArrayList<>(all.size());
        switch (message.shorthand()) {
            case SELF -> find(message.sourceApicId()).ifPresent(targets::add);
            case ALL_INCLUDING_SELF -> addEnabled(all, targets, -1);
            case ALL_BUT_SELF -> addEnabled(all, targets, message.sourceApicId());
            case NONE -> {
                if (isBroadcast(message)) {
                    addEnabled(all, targets, -1);
                } else {
                    for (LocalApic a : all) if (a.isAddressedBy(message.destination(), message.logical())) targets.add(a);
                }
            }
        }
        return targets;
    }

    private static void addEnabled(List<LocalApic> all, List<LocalApic> targets, int exceptApicId) {
        for (LocalApic a : all) if (a.apicId() != exceptApicId && a.hardwareEnabled()) targets.add(a);
    }

    private boolean isBroadcast(ApicMessage message) {
        int destination = message.destination();
        if (destination == X2APIC_BROADCAST) return true;
        if (destination != XAPIC_BROADCAST) return false;
        // 0xFF is an ordinary x2APIC ID (or logical mask) when an x2APIC-mode APIC sent it.
        return message.sourceApicId() < 0 || find(message.sourceApicId()).map(a -> !a.x2apicMode()).orElse(true);
    }

    private static int lowestPriority(List<LocalApic> targets) {
        int best = 0;
        int bestRank = Integer.MAX_VALUE;
        for (int i = 0; i < targets.size(); i++) {
            int rank = targets.get(i).lowestPriorityRank();
            if (rank < bestRank) {
                best = i;
                bestRank = rank;
            }
        }
        return best;
    }
}

package org.jhyve.irqchip;

/**
 * 256 interrupt vectors as the APIC's IRR, ISR and TMR hold them: eight 32-bit words, word {@code i} being what
 * the guest reads at register offset {@code base + 16 * i}.
 *
 * <p>Threading rules: none of its own; the {@link LocalApic} that owns it guards it with its lock.
 */
final class VectorSet {
    private final int[] words = new int[8];

    boolean contains(int vector) {
        return (words[vector >>> 5] & (1 << (vector & 31))) != 0;
    }

    void add(int vector) {
        words[vector >>> 5] |= 1 << (vector & 31);
    }

    void remove(int vector) {
        words[vector >>> 5] &= ~(1 << (vector & 31));
    }

    void set(int vector, boolean present) {
        if (present) add(vector); else remove(vector);
    }

    /** The highest vector present, or -1: the one with the highest priority. */
    int highest() {
        for (int i = 7; i >= 0; i--) {
            if (words[i] != 0) return i * 32 + 31 - Integer.numberOfLeadingZeros(words[i]);
        }
        return -1;
    }

    int word(int index) {
        return words[index];
    }

    void clear() {
        java.util.Arrays.fill(words, 0);
    }
}

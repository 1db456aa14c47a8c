package org.jhyve.hv;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One change to one CPUID register, as Firecracker's CPU templates spell them: of leaf {@code function}
 * (sub-leaf {@code index}, where the leaf's result depends on it), register {@code register} takes the bits
 * of {@code value} where {@code mask} has a 1 and keeps the hypervisor's bits elsewhere. A list of them is a
 * CPU template's CPUID (see {@code org.jhyve.cpu.CpuTemplate}); {@link #applyAll} is the one place that applies one.
 *
 * <p>A modifier changes a leaf the hypervisor offers; it adds none (a leaf KVM does not support would
 * mean nothing to the guest's instruction set anyway).
 */
public record CpuidModifier(int function, int index, Register register, int mask, int value) {
    /** The four result registers of CPUID. */
    public enum Register { EAX, EBX, ECX, EDX }

    public CpuidModifier {
        Objects.requireNonNull(register, "register");
    }

    /** Register {@code register} of leaf {@code function} (sub-leaf 0) becomes {@code value}, all 32 bits. */
    public static CpuidModifier set(int function, Register register, int value) {
        return new CpuidModifier(function, 0, register, -1, value);
    }

    /** The bits {@code bits} of register {@code register} of leaf {@code function} (sub-leaf 0) read as 0. */
    public static CpuidModifier clear(int function, Register register, int bits) {
        return new CpuidModifier(function, 0, register, bits, 0);
    }

    /**
     * Leaf 0's vendor string, 12 ASCII characters, which CPUID returns in EBX, EDX, ECX in that order
     * ("Genu" "ineI" "ntel"); leaf 0's EAX (the highest basic leaf) stays the hypervisor's.
     */
    public static List<CpuidModifier> vendor(String vendor) {
        byte[] ascii = vendor.getBytes(StandardCharsets.US_ASCII);
        if (ascii.length != 12 || !new String(ascii, StandardCharsets.US_ASCII).equals(vendor)) {
            throw new IllegalArgumentException("a CPUID vendor string is 12 ASCII characters: '" + vendor + "'");
        }
        ByteBuffer b = ByteBuffer.wrap(ascii).order(ByteOrder.LITTLE_ENDIAN);
        return List.of(set(0, Register.EBX, b.getInt(0)), set(0, Register.EDX, b.getInt(4)), set(0, Register.ECX, b.getInt(8)));
    }

    /** True when this modifier is about {@code entry}: its leaf, and its sub-leaf where the leaf has sub-leaves. */
    public boolean matches(CpuidEntry entry) {
        return entry.function() == function
                && ((entry.flags() & CpuidEntry.FLAG_SIGNIFICANT_INDEX) == 0 || entry.index() == index);
    }

    /** {@code entry} with this modifier applied (unchanged when it is about another leaf). */
    public CpuidEntry applyTo(CpuidEntry entry) {
        if (!matches(entry)) return entry;
        int e = entry.eax(), b = entry.ebx(), c = entry.ecx(), d = entry.edx();
        switch (register) {
            case EAX -> e = merge(e);
            case EBX -> b = merge(b);
            case ECX -> c = merge(c);
            case EDX -> d = merge(d);
        }
        return new CpuidEntry(entry.function(), entry.index(), entry.flags(), e, b, c, d);
    }

    private int merge(int hypervisors) {
        return (hypervisors & ~mask) | (value & mask);
    }

    /** {@code entries} in their order with every modifier of {@code modifiers} applied, in its order. */
    public static List<CpuidEntry> applyAll(List<CpuidModifier> modifiers, List<CpuidEntry> entries) {
        List<CpuidEntry> out = new ArrayList<>(entries.size());
        for (CpuidEntry entry : entries) {
            for (CpuidModifier m : modifiers) entry = m.applyTo(entry);
            out.add(entry);
        }
        return out;
    }
}

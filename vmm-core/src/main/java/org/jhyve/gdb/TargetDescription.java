package org.jhyve.gdb;

/**
 * target.xml, served through {@code qXfer:features:read}: tells gdb the architecture and exactly which
 * registers {@code g} carries, in which order ({@link X86Registers}), so nothing depends on gdb's built-in
 * guess of an x86-64 layout (which differs between gdb versions and OS ABIs). Each feature defines the
 * types its registers use, as gdb's own features/i386/64bit-*.xml do.
 */
final class TargetDescription {
    private TargetDescription() {}

    static final String ANNEX = "target.xml";

    /** The EFLAGS bits gdb should name when it prints the register (Intel SDM vol. 1, 3.4.3). */
    private static final String[][] EFLAGS_BITS = {
        {"CF", "0"}, {"", "1"}, {"PF", "2"}, {"AF", "4"}, {"ZF", "6"}, {"SF", "7"}, {"TF", "8"}, {"IF", "9"},
        {"DF", "10"}, {"OF", "11"}, {"NT", "14"}, {"RF", "16"}, {"VM", "17"}, {"AC", "18"}, {"VIF", "19"},
        {"VIP", "20"}, {"ID", "21"},
    };

    /** The MXCSR bits gdb names (Intel SDM vol. 1, 10.2.3); the rounding control (13-14) it shows as numbers. */
    private static final String[][] MXCSR_BITS = {
        {"IE", "0"}, {"DE", "1"}, {"ZE", "2"}, {"OE", "3"}, {"UE", "4"}, {"PE", "5"}, {"DAZ", "6"}, {"IM", "7"},
        {"DM", "8"}, {"ZM", "9"}, {"OM", "10"}, {"UM", "11"}, {"PM", "12"}, {"FZ", "15"},
    };

    /**
     * vec128's views of an XMM register, each a vector type of gdb's predefined element types: {id, element,
     * count, field name}. Recent gdbs' own 64bit-sse.xml adds v8_bfloat16 and v8_half views; they are left out
     * (as QEMU's description leaves them out) because a gdb that meets an element type it does not know (bfloat16
     * before gdb 11) rejects the whole description, and falls back to guessing the layout.
     */
    private static final String[][] VEC128_VIEWS = {
        {"v4f", "ieee_single", "4", "v4_float"}, {"v2d", "ieee_double", "2", "v2_double"},
        {"v16i8", "int8", "16", "v16_int8"}, {"v8i16", "int16", "8", "v8_int16"},
        {"v4i32", "int32", "4", "v4_int32"}, {"v2i64", "int64", "2", "v2_int64"},
    };

    static final String XML = build();

    private static String build() {
        StringBuilder x = new StringBuilder(8192);
        x.append("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
        x.append("  <architecture>i386:x86-64</architecture>\n");
        String open = null;
        for (int n = 0; n < X86Registers.ALL.size(); n++) {
            X86Registers.Spec spec = X86Registers.ALL.get(n);
            if (!spec.feature().equals(open)) {
                if (open != null) x.append("  </feature>\n");
                open = spec.feature();
                x.append("  <feature name=\"").append(open).append("\">\n");
                if (open.equals(X86Registers.CORE)) flags(x, "i386_eflags", EFLAGS_BITS);
                if (open.equals(X86Registers.SSE)) sseTypes(x);
            }
            x.append("    <reg name=\"").append(spec.name()).append("\" bitsize=\"").append(spec.bytes() * 8)
                    .append("\" type=\"").append(spec.type()).append("\" regnum=\"").append(n).append('"');
            if (!spec.group().isEmpty()) x.append(" group=\"").append(spec.group()).append('"');
            x.append("/>\n");
        }
        x.append("  </feature>\n</target>\n");
        return x.toString();
    }

    private static void sseTypes(StringBuilder x) {
        for (String[] v : VEC128_VIEWS) {
            x.append("    <vector id=\"").append(v[0]).append("\" type=\"").append(v[1]).append("\" count=\"").append(v[2]).append("\"/>\n");
        }
        x.append("    <union id=\"vec128\">\n");
        for (String[] v : VEC128_VIEWS) {
            x.append("      <field name=\"").append(v[3]).append("\" type=\"").append(v[0]).append("\"/>\n");
        }
        x.append("      <field name=\"uint128\" type=\"uint128\"/>\n    </union>\n");
        flags(x, "i386_mxcsr", MXCSR_BITS);
    }

    /** A 4-byte flags type: one field per named bit. */
    private static void flags(StringBuilder x, String id, String[][] bits) {
        x.append("    <flags id=\"").append(id).append("\" size=\"4\">\n");
        for (String[] bit : bits) {
            x.append("      <field name=\"").append(bit[0]).append("\" start=\"").append(bit[1]).append("\" end=\"").append(bit[1]).append("\"/>\n");
        }
        x.append("    </flags>\n");
    }
}

package org.jhyve.gdb;

/**
 * target.xml, served through {@code qXfer:features:read}: tells gdb the architecture and exactly which
 * registers {@code g} carries, in which order ({@link X86Registers}), so nothing depends on gdb's built-in
 * guess of an x86-64 layout (which differs between gdb versions and OS ABIs).
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

    static final String XML = build();

    private static String build() {
        StringBuilder x = new StringBuilder(4096);
        x.append("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n");
        x.append("  <architecture>i386:x86-64</architecture>\n");
        String open = null;
        for (int n = 0; n < X86Registers.ALL.size(); n++) {
            X86Registers.Spec spec = X86Registers.ALL.get(n);
            if (!spec.feature().equals(open)) {
                if (open != null) x.append("  </feature>\n");
                open = spec.feature();
                x.append("  <feature name=\"").append(open).append("\">\n");
                if (open.equals(X86Registers.CORE)) eflagsType(x);
            }
            x.append("    <reg name=\"").append(spec.name()).append("\" bitsize=\"").append(spec.bytes() * 8)
                    .append("\" type=\"").append(spec.type()).append("\" regnum=\"").append(n).append('"');
            if (n >= X86Registers.FIRST_X87_CONTROL && n < X86Registers.FS_BASE) x.append(" group=\"float\"");
            x.append("/>\n");
        }
        x.append("  </feature>\n</target>\n");
        return x.toString();
    }

    private static void eflagsType(StringBuilder x) {
        x.append("    <flags id=\"i386_eflags\" size=\"4\">\n");
        for (String[] bit : EFLAGS_BITS) {
            x.append("      <field name=\"").append(bit[0]).append("\" start=\"").append(bit[1]).append("\" end=\"").append(bit[1]).append("\"/>\n");
        }
        x.append("    </flags>\n");
    }
}

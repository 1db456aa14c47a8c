package org.jhyve.cli;

import java.util.Locale;

/**
 * xhyve's {@code -m}: a number with an optional K, M, G or T suffix (case-insensitive, a trailing B
 * allowed); a bare number is mebibytes, as in xhyve.
 */
final class MemorySize {
    private MemorySize() {}

    static long parse(String text) throws UsageException {
        String flag = "-m " + text;
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("B") && s.length() > 1 && Character.isLetter(s.charAt(s.length() - 2))) s = s.substring(0, s.length() - 1);
        int shift = 20;
        if (!s.isEmpty() && Character.isLetter(s.charAt(s.length() - 1))) {
            shift = switch (s.charAt(s.length() - 1)) {
                case 'K' -> 10;
                case 'M' -> 20;
                case 'G' -> 30;
                case 'T' -> 40;
                default -> throw new UsageException(flag, "unknown size suffix (use K, M, G or T)");
            };
            s = s.substring(0, s.length() - 1);
        }
        long value;
        try {
            value = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new UsageException(flag, "not a memory size (e.g. 512M or 2G)");
        }
        if (value <= 0) throw new UsageException(flag, "memory size must be positive");
        if (value > (Long.MAX_VALUE >> shift)) throw new UsageException(flag, "memory size is too large");
        return value << shift;
    }
}

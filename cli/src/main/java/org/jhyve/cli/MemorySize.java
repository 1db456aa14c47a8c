package org.jhyve.cli;

import java.util.Locale;

/**
 * xhyve's {@code -m}: a number with an optional K, M, G or T suffix (case-insensitive, a trailing B
 * allowed); a bare number is mebibytes, as in xhyve.
 */
final class MemorySize {
    private MemorySize() {}

    private static final java.util.regex.Pattern SIZE = java.util.regex.Pattern.compile("(\\d+)([A-Z]?)B?");

    static long parse(String text) throws UsageException {
        String flag = "-m " + text;
        var m = SIZE.matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) throw new UsageException(flag, "not a memory size (e.g. 512M or 2G)");
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "", "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> throw new UsageException(flag, "unknown size suffix (use K, M, G or T)");
        };
        long value;
        try {
            value = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new UsageException(flag, "memory size is too large");
        }
        if (value <= 0) throw new UsageException(flag, "memory size must be positive");
        if (value > (Long.MAX_VALUE >> shift)) throw new UsageException(flag, "memory size is too large");
        return value << shift;
    }
}

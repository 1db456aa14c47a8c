package org.jhyve.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code -m} as bhyve reads it (libvmmapi's {@code vm_parse_memsize}): a bare number below 1 MiB (1048576) is
 * mebibytes, for compatibility with older bhyve and xhyve ({@code -m 512}); a bare number from 1048576 up is bytes;
 * otherwise {@code expand_number}'s form, a number with a K, M, G, T, P or E suffix (case-insensitive, a trailing
 * B allowed: {@code 512MB}), or B alone for bytes. Numbers are C's {@code strtoul} base 0: {@code 0x} hex, a
 * leading 0 octal.
 */
final class MemorySize {
    private MemorySize() {}

    private static final Pattern SIZE = Pattern.compile("(0X[0-9A-F]+|[0-9]+)([A-Z]?)B?");
    private static final long MIB = 1L << 20;

    static long parse(String text) throws UsageException {
        return parse("-m " + text, text);
    }

    /** {@code text} as a memory size; errors begin with {@code flag}, what set it ("-m 1G", "-o memory.size=1G"). */
    static long parse(String flag, String text) throws UsageException {
        Matcher m = SIZE.matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) throw new UsageException(flag, "not a memory size (e.g. 512M or 2G)");
        boolean bare = m.group(2).isEmpty(); // [A-Z]? takes a lone B, so empty means no letter at all
        int shift = switch (m.group(2)) {
            case "" -> 0;
            case "B" -> m.end(2) == m.regionEnd() ? 0 : -1; // "BB" is nothing
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            case "P" -> 50;
            case "E" -> 60;
            default -> -1;
        };
        if (shift < 0) throw new UsageException(flag, "unknown size suffix (use K, M, G or T)");
        long value = number(flag, m.group(1));
        if (value <= 0) throw new UsageException(flag, "memory size must be positive");
        if (bare) return value < MIB ? value * MIB : value;
        if (value > (Long.MAX_VALUE >> shift)) throw new UsageException(flag, "memory size is too large");
        return value << shift;
    }

    private static long number(String flag, String digits) throws UsageException {
        try {
            return CNumber.parse(digits);
        } catch (NumberFormatException e) {
            // Too many digits, or an 8 or 9 in an octal number.
            throw new UsageException(flag, digits.matches("0[0-7]*[89].*") ? "not a memory size (a leading 0 is octal)" : "memory size is too large");
        }
    }
}

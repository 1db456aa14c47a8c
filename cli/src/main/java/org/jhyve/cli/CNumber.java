package org.jhyve.cli;

/** Numbers as bhyve reads them, C's {@code strtoul}/{@code strtol} with base 0: 0x hex, a leading 0 octal, else decimal. */
final class CNumber {
    private CNumber() {}

    /** @throws NumberFormatException for anything else, or a value beyond a long */
    static long parse(String digits) {
        if (digits.startsWith("0x") || digits.startsWith("0X")) return Long.parseLong(digits.substring(2), 16);
        if (digits.length() > 1 && digits.startsWith("0")) return Long.parseLong(digits.substring(1), 8);
        return Long.parseLong(digits);
    }
}

package org.jhyve.trace;

/** Ports or guest-physical addresses {@code [first, last]}, both ends included, as a filter selects them. */
public record AddressRange(long first, long last) {
    public AddressRange {
        if (first < 0 || last < 0) throw new IllegalArgumentException("addresses are not negative");
        if (last < first) throw new IllegalArgumentException(String.format("range 0x%x-0x%x ends before it starts", first, last));
    }

    public boolean contains(long address) {
        return address >= first && address <= last;
    }

    /**
     * {@code 0x3f8-0x3ff}, {@code 0x3f8} or decimal {@code 1016-1023}. Hex needs its {@code 0x}, so that
     * {@code 3f8} is refused rather than read as something else.
     */
    public static AddressRange parse(String text) {
        int dash = text.indexOf('-');
        if (dash < 0) {
            long at = number(text, text);
            return new AddressRange(at, at);
        }
        return new AddressRange(number(text.substring(0, dash), text), number(text.substring(dash + 1), text));
    }

    private static long number(String digits, String whole) {
        String d = digits.strip();
        try {
            if (d.startsWith("0x") || d.startsWith("0X")) return Long.parseUnsignedLong(d.substring(2), 16);
            return Long.parseLong(d);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + whole + "' is not an address or range (e.g. 0x3f8-0x3ff)");
        }
    }

    @Override
    public String toString() {
        return first == last ? String.format("0x%x", first) : String.format("0x%x-0x%x", first, last);
    }
}

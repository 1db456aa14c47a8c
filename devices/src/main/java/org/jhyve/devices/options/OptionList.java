package org.jhyve.devices.options;

import java.util.ArrayList;
import java.util.List;

/**
 * A device's {@code -s} option string split once, as bhyve writes them: {@code FIRST[,KEY[=VALUE]]...}, where
 * FIRST is the image path or the backend. Every emulation parses its options from here, so the splitting rules
 * (commas, the first '=' separating key from value, empty parts kept) are the same for all.
 */
public record OptionList(String first, List<Option> rest) {
    /** One {@code KEY} or {@code KEY=VALUE}; {@code value} is null when there is no '='. */
    public record Option(String text, String key, String value) {
        static Option of(String text) {
            int eq = text.indexOf('=');
            return eq < 0 ? new Option(text, text, null) : new Option(text, text.substring(0, eq), text.substring(eq + 1));
        }

        /** The value, or {@code fallback} for a bare {@code KEY}. */
        public String valueOr(String fallback) { return value == null ? fallback : value; }
    }

    public OptionList {
        rest = List.copyOf(rest);
    }

    /** {@code options} as FIRST and the options after it. */
    public static OptionList split(String options) {
        List<Option> all = all(options);
        return new OptionList(all.getFirst().text(), all.subList(1, all.size()));
    }

    /** Every comma-separated part of {@code options} as an option, the first included (for emulations without a path). */
    public static List<Option> all(String options) {
        List<Option> parts = new ArrayList<>();
        for (String p : options.split(",", -1)) parts.add(Option.of(p));
        return parts;
    }
}

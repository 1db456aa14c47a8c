package org.jhyve.config;

import java.util.regex.Pattern;

/**
 * What a key and a value may be. A key is dot-separated names of letters, digits, '_' and '-' (bhyve's
 * {@code pci.0.2.0.device}, {@code lpc.com1.path}, {@code num-queues}); a value is any text on one line, so
 * that a dump is one {@code key=value} line per key and reads back as the same tree ('=' and '#' included: a
 * line splits at its first '=', and only a line starting with '#' is a comment).
 */
public final class ConfigKeys {
    private ConfigKeys() {}

    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");

    public static boolean isKey(String key) {
        return KEY.matcher(key).matches();
    }

    public static boolean isValue(String value) {
        return value.indexOf('\n') < 0 && value.indexOf('\r') < 0;
    }

    /** @throws ConfigException unless {@code key} is a key and {@code value} a value */
    static void check(String key, String value) {
        if (!isKey(key)) {
            throw new ConfigException(key, "'" + key.replace("\0", "\\0")
                    + "' is not a configuration key (names of letters, digits, _ and -, separated by dots)");
        }
        if (!isValue(value)) throw new ConfigException(key, key + ": a configuration value is one line");
    }
}

package org.jhyve.config;

/**
 * A configuration value is missing, malformed or not allowed. {@link #key()} is the full dotted key it is about
 * (e.g. {@code pci.0.2.0.mac}), so that the caller can say where the key came from (a flag, a file's line, an
 * {@code -o}); the message is one line for the user and does not repeat that origin.
 */
public final class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(message);
        this.key = key;
    }

    /** The full key the error is about. */
    public String key() {
        return key;
    }
}

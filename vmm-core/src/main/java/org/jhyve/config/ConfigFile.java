package org.jhyve.config;

/**
 * bhyve's {@code -k FILE}: one {@code key=value} per line; blank lines and lines starting with '#' (after any
 * spaces) are skipped. A line splits at its first '=', so a value may hold '=' and '#'; it runs to the end of
 * the line as it is, spaces included ({@link ConfigTree#dump} writes them so). A line ending in CR LF loses the CR.
 */
public final class ConfigFile {
    private ConfigFile() {}

    /**
     * Adds the lines of {@code text} to {@code into}, in order; each value's origin is "NAME:LINE: key=value".
     *
     * @throws ConfigException for a line that is not {@code key=value}; its message begins "NAME:LINE: "
     */
    public static void parse(String name, String text, ConfigTree.Builder into) {
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            String where = name + ":" + (i + 1);
            String trimmed = line.stripLeading();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) continue;
            int eq = trimmed.indexOf('=');
            String key = eq < 0 ? trimmed : trimmed.substring(0, eq);
            if (eq < 0 || !ConfigKeys.isKey(key)) {
                throw new ConfigException(key, where + ": expected key=value (a key is names of letters, digits, _ and -, separated by dots), not '"
                        + printable(line) + "'");
            }
            try {
                into.set(key, trimmed.substring(eq + 1), where + ": " + trimmed);
            } catch (ConfigException e) {
                throw new ConfigException(e.key(), where + ": " + e.getMessage());
            }
        }
    }

    private static String printable(String line) {
        String shown = line.length() > 60 ? line.substring(0, 60) + "..." : line;
        return shown.replace("\0", "\\0");
    }
}

package org.jhyve.config;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A VM's configuration as bhyve(8) keeps it since FreeBSD 13: dotted keys with string values, sorted
 * ({@code cpus=2}, {@code memory.size=1G}, {@code pci.0.2.0.device=virtio-net}, {@code pci.0.2.0.mac=...}).
 * Only leaves have values: no key is also the prefix of another. Each value keeps its {@link Setting#origin}.
 *
 * <p>The keys and values never change once built. The tree also records which keys were read, so that once
 * everything that configures the VM has read its part, {@link #unread()} names every key nobody knows: a
 * misspelt key is an error, not silently ignored (bhyve ignores them; jhyve reports them).
 *
 * <p>Threading: safe to share. The values are immutable; the record of reads is a concurrent set, written by
 * whichever thread reads a value. {@link #unread()} is meaningful once the readers are done.
 */
public final class ConfigTree {
    private final SortedMap<String, Setting> settings;
    private final Set<String> read = ConcurrentHashMap.newKeySet();

    private ConfigTree(SortedMap<String, Setting> settings) {
        this.settings = Collections.unmodifiableSortedMap(new TreeMap<>(settings));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A tree of {@code values}, each with {@code origin} (for a program's own tree: "my-vm.properties", say). */
    public static ConfigTree of(Map<String, String> values, String origin) {
        Builder b = builder();
        values.forEach((k, v) -> b.set(k, v, origin));
        return b.build();
    }

    /** The value of {@code key}, recording that it was read. */
    public Optional<String> value(String key) {
        Setting s = settings.get(key);
        if (s == null) return Optional.empty();
        read.add(key);
        return Optional.of(s.value());
    }

    /** The value and origin of {@code key}, without recording a read (for messages). */
    public Optional<Setting> setting(String key) {
        return Optional.ofNullable(settings.get(key));
    }

    /**
     * Where {@code key} came from; for a node (a key with keys under it, {@code pci.0.2.0}) where its first key
     * came from; empty when neither.
     */
    public Optional<String> origin(String key) {
        Setting s = settings.get(key);
        if (s != null) return Optional.of(s.origin());
        var below = under(key);
        return below.isEmpty() ? Optional.empty() : Optional.of(below.get(below.firstKey()).origin());
    }

    public ConfigNode root() {
        return new ConfigNode(this, "");
    }

    /** The node at {@code path} ("" for the root, else a key prefix such as "pci.0.2.0"). */
    public ConfigNode node(String path) {
        return new ConfigNode(this, path);
    }

    /** Every key and value, sorted; reads nothing. */
    public SortedMap<String, String> values() {
        SortedMap<String, String> values = new TreeMap<>();
        settings.forEach((k, s) -> values.put(k, s.value()));
        return values;
    }

    /** The keys under {@code path} (all of them for ""), sorted; reads nothing. */
    SortedMap<String, Setting> under(String path) {
        if (path.isEmpty()) return settings;
        // '.' + 1 is '/': every key that starts with "path." sorts below "path/".
        return settings.subMap(path + ".", path + "/");
    }

    /** The names of the nodes and leaves right under {@code path}: "pci" → {"0"}; "pci.0" → {"2", "31"}. */
    SortedSet<String> childNames(String path) {
        SortedSet<String> names = new TreeSet<>();
        int skip = path.isEmpty() ? 0 : path.length() + 1;
        for (String key : under(path).keySet()) {
            int dot = key.indexOf('.', skip);
            names.add(dot < 0 ? key.substring(skip) : key.substring(skip, dot));
        }
        return names;
    }

    /** Records {@code key} as read without reading it: for a key whose presence is all that matters. */
    public void markRead(String key) {
        if (settings.containsKey(key)) read.add(key);
    }

    /** The keys nobody has read, sorted: unknown ones, once every reader is done. */
    public List<String> unread() {
        return settings.keySet().stream().filter(k -> !read.contains(k)).toList();
    }

    /** The tree as {@code key=value} lines, sorted, each ending in a newline: what {@link ConfigFile#parse} reads back. */
    public String dump() {
        StringBuilder text = new StringBuilder();
        settings.forEach((k, s) -> text.append(k).append('=').append(s.value()).append('\n'));
        return text.toString();
    }

    /** The same keys and values without {@code key} (config.dump itself, say, which a dump should not repeat). */
    public ConfigTree without(String key) {
        SortedMap<String, Setting> copy = new TreeMap<>(settings);
        copy.remove(key);
        return new ConfigTree(copy);
    }

    /** Equal when the keys and values are: origins and reads are not the configuration. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigTree t && values().equals(t.values());
    }

    @Override
    public int hashCode() {
        return values().hashCode();
    }

    @Override
    public String toString() {
        return values().toString();
    }

    /**
     * Collects settings in order; a later value for a key replaces the earlier one (and its origin). Used by one
     * thread, then {@link #build()}.
     */
    public static final class Builder {
        private final TreeMap<String, Setting> sorted = new TreeMap<>();

        private Builder() {}

        /**
         * Sets {@code key} to {@code value}.
         *
         * @throws ConfigException when {@code key} is not a key, {@code value} not one line, or the key is a node
         *         with keys under it, or under a key that has a value (only leaves have values)
         */
        public Builder set(String key, String value, String origin) {
            ConfigKeys.check(key, value);
            var below = sorted.subMap(key + ".", key + "/");
            if (!below.isEmpty()) {
                throw new ConfigException(key, key + " has keys under it (" + below.firstKey() + "), so it has no value of its own");
            }
            for (int dot = key.indexOf('.'); dot > 0; dot = key.indexOf('.', dot + 1)) {
                String parent = key.substring(0, dot);
                if (sorted.containsKey(parent)) {
                    throw new ConfigException(key, parent + " has a value (" + sorted.get(parent).origin() + "), so it has no keys under it");
                }
            }
            Setting s = new Setting(value, origin);
            sorted.put(key, s);
            return this;
        }

        /** Whether {@code key} is set, or is a node with keys under it. */
        public boolean has(String key) {
            return sorted.containsKey(key) || !sorted.subMap(key + ".", key + "/").isEmpty();
        }

        public ConfigTree build() {
            return new ConfigTree(sorted);
        }
    }
}

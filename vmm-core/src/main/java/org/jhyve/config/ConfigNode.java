package org.jhyve.config;

import java.util.Locale;
import java.util.Optional;
import java.util.SortedSet;

/**
 * A view of the keys under one node of a {@link ConfigTree}, {@code pci.0.2.0} say: what a device reads its
 * settings from, by names relative to its node ({@code mac}, {@code port.0.path}). Reading a value records it as
 * read in the tree. Errors name the full key ({@link #key}), through a {@link ConfigException}.
 *
 * <p>Threading: as its tree, safe to share; a view holds nothing of its own but the path.
 */
public final class ConfigNode {
    private final ConfigTree tree;
    private final String path;

    ConfigNode(ConfigTree tree, String path) {
        this.tree = tree;
        this.path = path;
    }

    /** A node of its own tree with {@code values} (relative names), for a device configured without a command line. */
    public static ConfigNode of(java.util.Map<String, String> values, String origin) {
        return ConfigTree.of(values, origin).root();
    }

    /** The node's path in its tree ("" for the root). */
    public String path() {
        return path;
    }

    public ConfigTree tree() {
        return tree;
    }

    /** The full key of {@code name} under this node: {@code mac} under {@code pci.0.2.0} is {@code pci.0.2.0.mac}. */
    public String key(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /** The value of {@code name}, recorded as read. */
    public Optional<String> get(String name) {
        return tree.value(key(name));
    }

    /** Whether {@code name} has a value or keys under it; reads nothing. */
    public boolean has(String name) {
        return tree.setting(key(name)).isPresent() || !tree.under(key(name)).isEmpty();
    }

    public ConfigNode child(String name) {
        return new ConfigNode(tree, key(name));
    }

    /** The names right under this node, sorted as strings ("10" before "2"). */
    public SortedSet<String> childNames() {
        return tree.childNames(path);
    }

    /** Whether nothing is set under this node. */
    public boolean isEmpty() {
        return tree.under(path).isEmpty();
    }

    /**
     * {@code name} as bhyve's booleans: true, on, yes, 1 or false, off, no, 0, in any case; {@code fallback} when unset.
     *
     * @throws ConfigException for any other value
     */
    public boolean bool(String name, boolean fallback) {
        Optional<String> v = get(name);
        if (v.isEmpty()) return fallback;
        return switch (v.get().toLowerCase(Locale.ROOT)) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> throw malformed(name, key(name) + "=" + v.get() + " is not a boolean (true or false)");
        };
    }

    /** Where {@code name} came from, for messages; empty when it is not set. */
    public Optional<String> origin(String name) {
        return tree.origin(key(name));
    }

    /** Equal when at the same path with the same keys and values under it. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigNode n && path.equals(n.path) && values().equals(n.values());
    }

    @Override
    public int hashCode() {
        return path.hashCode() * 31 + values().hashCode();
    }

    @Override
    public String toString() {
        return (path.isEmpty() ? "(root)" : path) + values();
    }

    /** The keys and values under this node, by their full keys; reads nothing. */
    public java.util.SortedMap<String, String> values() {
        java.util.SortedMap<String, String> values = new java.util.TreeMap<>();
        tree.under(path).forEach((k, s) -> values.put(k, s.value()));
        return values;
    }

    /** An error about {@code name}'s value: {@code message} is the whole line after its origin. */
    public ConfigException malformed(String name, String message) {
        return new ConfigException(key(name), message);
    }
}

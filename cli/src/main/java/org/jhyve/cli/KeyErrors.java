package org.jhyve.cli;

import org.jhyve.config.ConfigException;
import org.jhyve.config.ConfigTree;

/**
 * Errors about configuration keys as the user meets them: after what set the key ("-s 2,virtio-net,mac=zz",
 * "-o pci.0.2.0.mac=zz", "vm.conf:3: pci.0.2.0.mac=zz"), so one line says both where and what.
 */
final class KeyErrors {
    private KeyErrors() {}

    /** What set {@code key} (or the first key under it, for a node); the key itself if nothing did. */
    static String origin(ConfigTree tree, String key) {
        return tree.origin(key).orElse(key);
    }

    static UsageException usage(ConfigTree tree, ConfigException e) {
        return new UsageException(origin(tree, e.key()), e.getMessage());
    }

    /** Sets {@code key}; a key or value the tree refuses is an error naming {@code origin}. */
    static void set(ConfigTree.Builder b, String key, String value, String origin) throws UsageException {
        try {
            b.set(key, value, origin);
        } catch (ConfigException e) {
            throw new UsageException(origin, e.getMessage());
        }
    }
}

package org.jhyve.devices.options;

import java.util.Optional;
import java.util.function.Function;
import org.jhyve.config.ConfigNode;
import org.jhyve.vm.DeviceConfigException;

/** How a device reads one value of its node through the parser it has for it, with errors naming the key. */
public final class NodeValues {
    private NodeValues() {}

    /**
     * {@code name}'s value parsed by {@code parser}; empty when unset. A {@link DeviceConfigException} from the
     * parser becomes a {@link org.jhyve.config.ConfigException} for {@code name}'s key, same message, so that the
     * caller can say where the value came from.
     */
    public static <T> Optional<T> parse(ConfigNode node, String name, Function<String, T> parser) {
        Optional<String> value = node.get(name);
        if (value.isEmpty()) return Optional.empty();
        try {
            return Optional.of(parser.apply(value.get()));
        } catch (DeviceConfigException e) {
            throw node.malformed(name, e.getMessage());
        }
    }
}

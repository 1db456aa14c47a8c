package org.jhyve.devices.options;

import java.util.Map;
import java.util.function.Function;
import org.jhyve.config.ConfigException;
import org.jhyve.config.ConfigNode;
import org.jhyve.vm.DeviceConfigException;

/**
 * An {@code -s} option string's way to a device's settings, as bhyve's pci_parse_legacy_config: the string
 * becomes keys of a node (by the emulation's translator), and the device reads its node. This is for callers
 * that hold a string rather than a tree (the string form of {@code PciDeviceFactory}, tests): the node is one of
 * its own, and a bad value is a {@link DeviceConfigException}, as it always was for an option string.
 */
public final class LegacyOptions {
    private LegacyOptions() {}

    public static <T> T read(Map<String, String> keys, Function<ConfigNode, T> reader) {
        try {
            return reader.apply(ConfigNode.of(keys, "-s options"));
        } catch (ConfigException e) {
            throw new DeviceConfigException(e.getMessage(), e);
        }
    }
}

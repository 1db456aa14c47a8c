package org.jhyve.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jhyve.config.ConfigTree;
import org.jhyve.devices.pci.LpcBridge;
import org.jhyve.devices.uart.SerialBackends;

/**
 * The {@code -l} flags: which LPC device (com1 to com4) goes to which serial backend, as bhyve's keys
 * {@code lpc.com1.path} to {@code lpc.com4.path}, and the test devices of {@link LpcTestDevices}. The device
 * name is case-insensitive, as in bhyve: {@code -l COM1,stdio} is {@code com1}.
 */
final class LpcSpec {
    private LpcSpec() {}

    /** bhyve's other LPC devices, known so that they are refused by name rather than called unknown. */
    private static final Set<String> BHYVE_ONLY = Set.of("bootrom", "tpm");

    static void translate(List<String> flags, ConfigTree.Builder b) throws UsageException {
        for (String text : flags) {
            String flag = "-l " + text;
            String[] parts = text.split(",", 2);
            String device = parts[0].toLowerCase(Locale.ROOT);
            if (LpcTestDevices.handles(device)) {
                LpcTestDevices.translate(flag, device, parts.length < 2 ? Optional.empty() : Optional.of(parts[1]), b);
                continue;
            }
            if (BHYVE_ONLY.contains(device)) throw new UsageException(flag, "the LPC device " + device + " is not supported yet");
            if (LpcBridge.COM_PORTS.stream().noneMatch(p -> p.name().equals(device))) {
                throw new UsageException(flag, "unknown LPC device '" + parts[0] + "' (" + LpcBridge.COM_NAMES + "; pc-testdev, isa-debug-exit or fwcfg,qemu)");
            }
            if (parts.length < 2 || parts[1].isEmpty()) throw new UsageException(flag, "expected " + parts[0] + ",BACKEND");
            if (b.has(key(device))) throw new UsageException(flag, device + " is configured twice");
            KeyErrors.set(b, key(device), parts[1], flag);
        }
    }

    static String key(String port) {
        return "lpc." + port + ".path";
    }

    /** The ports the tree configures, "com1" → backend spec, each spec checked. */
    static Map<String, String> read(ConfigTree tree) throws UsageException {
        Map<String, String> ports = new LinkedHashMap<>();
        for (LpcBridge.ComPort com : LpcBridge.COM_PORTS) {
            Optional<String> spec = tree.value(key(com.name()));
            if (spec.isEmpty()) continue;
            try {
                SerialBackends.parse(spec.get());
            } catch (IllegalArgumentException e) {
                throw new UsageException(KeyErrors.origin(tree, key(com.name())), e.getMessage());
            }
            ports.put(com.name(), spec.get());
        }
        return ports;
    }
}

package org.jhyve.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jhyve.devices.pci.LpcBridge;
import org.jhyve.devices.uart.SerialBackends;

/**
 * The {@code -l} flags: which LPC device (com1 to com4) goes to which serial backend. The device name is
 * case-insensitive, as xhyve's and bhyve's {@code strcasecmp}: {@code -l COM1,stdio} is {@code com1}.
 */
final class LpcSpec {
    private LpcSpec() {}

    /** bhyve's other LPC devices, known so that they are refused by name rather than called unknown. */
    private static final Set<String> BHYVE_ONLY = Set.of("bootrom", "fwcfg", "pc-testdev", "tpm");

    static Map<String, String> parse(List<String> flags) throws UsageException {
        Map<String, String> ports = new LinkedHashMap<>();
        for (String text : flags) {
            String flag = "-l " + text;
            String[] parts = text.split(",", 2);
            String device = parts[0].toLowerCase(Locale.ROOT);
            if (BHYVE_ONLY.contains(device)) throw new UsageException(flag, "the LPC device " + device + " is not supported yet");
            if (LpcBridge.COM_PORTS.stream().noneMatch(p -> p.name().equals(device))) {
                throw new UsageException(flag, "unknown LPC device '" + parts[0] + "' (" + LpcBridge.COM_NAMES + ")");
            }
            if (parts.length < 2 || parts[1].isEmpty()) throw new UsageException(flag, "expected " + parts[0] + ",BACKEND");
            try {
                SerialBackends.parse(parts[1]);
            } catch (IllegalArgumentException e) {
                throw new UsageException(flag, e.getMessage());
            }
            if (ports.putIfAbsent(device, parts[1]) != null) throw new UsageException(flag, device + " is configured twice");
        }
        return ports;
    }
}

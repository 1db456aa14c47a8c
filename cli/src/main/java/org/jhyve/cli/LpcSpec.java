package org.jhyve.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jhyve.devices.pci.LpcBridge;
import org.jhyve.devices.uart.SerialBackends;

/** The {@code -l} flags: which LPC device (com1, com2) goes to which serial backend. */
final class LpcSpec {
    private LpcSpec() {}

    static Map<String, String> parse(List<String> flags) throws UsageException {
        Map<String, String> ports = new LinkedHashMap<>();
        for (String text : flags) {
            String flag = "-l " + text;
            String[] parts = text.split(",", 2);
            String device = parts[0];
            if (LpcBridge.COM_PORTS.stream().noneMatch(p -> p.name().equals(device))) {
                throw new UsageException(flag, "unknown LPC device '" + device + "' (com1 or com2)");
            }
            if (parts.length < 2 || parts[1].isEmpty()) throw new UsageException(flag, "expected " + device + ",BACKEND");
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

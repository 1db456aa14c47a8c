package org.jhyve.devices.pci;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jhyve.devices.uart.PtyBackend;
import org.jhyve.devices.uart.SerialBackend;
import org.jhyve.devices.uart.SerialBackendSpec;
import org.jhyve.devices.uart.SerialBackends;
import org.jhyve.devices.uart.SerialPort;
import org.jhyve.devices.uart.Uart16550;
import org.jhyve.pci.PciFunction;
import org.jhyve.vm.DeviceConfigException;
import org.jhyve.vm.MachineContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PCI-to-LPC (ISA) bridge, and the legacy devices behind it: COM1 (ports 0x3F8–0x3FF, IRQ 4),
 * COM2 (0x2F8–0x2FF, IRQ 3), COM3 (0x3E8–0x3EF, IRQ 4) and COM4 (0x2E8–0x2EF, IRQ 3), the standard ISA
 * assignments bhyve uses too, each present only when {@code -l} configures it. COM1 and COM3 (COM2 and COM4)
 * share their IRQ: the line is the OR of the two UARTs' requests ({@link SharedIrqLine}). Neither jhyve's DSDT
 * nor its MP table lists any COM port, the first two included (Linux's 8250 driver probes the four standard
 * addresses on x86); the MP table and MADT route ISA IRQs 3 and 4 as every other ISA IRQ. IDs are those of Intel's PIIX3 ISA bridge, which bhyve uses too.
 */
public final class LpcBridge extends PciFunction implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LpcBridge.class);
    public static final int VENDOR_INTEL = 0x8086;
    public static final int DEVICE_PIIX3_ISA = 0x7000;
    /** Base class 0x06 (bridge), subclass 0x01 (ISA). */
    public static final int CLASS_ISA_BRIDGE = 0x060100;

    /** A legacy COM port's fixed resources. */
    public record ComPort(String name, int base, int irq) {}

    public static final List<ComPort> COM_PORTS = List.of(new ComPort("com1", 0x3f8, 4), new ComPort("com2", 0x2f8, 3),
            new ComPort("com3", 0x3e8, 4), new ComPort("com4", 0x2e8, 3));

    /** "com1, com2, com3 or com4", for messages. */
    public static final String COM_NAMES = "com1, com2, com3 or com4";

    private final List<SerialPort> ports = new ArrayList<>();

    private LpcBridge() {
        super("lpc", VENDOR_INTEL, DEVICE_PIIX3_ISA, CLASS_ISA_BRIDGE, 0);
    }

    /**
     * The bridge with the serial ports {@code config} names ("com1" to "com4" → a {@code -l} backend spec),
     * registered on the machine's port bus. Every spec is parsed before any port is opened.
     */
    public static LpcBridge create(MachineContext machine, Map<String, String> config) {
        checkNames(config);
        Map<String, SerialBackendSpec> parsed = new LinkedHashMap<>();
        for (ComPort com : COM_PORTS) {
            String spec = config.get(com.name());
            if (spec == null) continue;
            try {
                parsed.put(com.name(), SerialBackends.parse(spec));
            } catch (IllegalArgumentException e) {
                throw new DeviceConfigException(com.name() + ": " + e.getMessage());
            }
        }
        return withConsoles(machine, parsed);
    }

    /**
     * The bridge with the serial ports {@code ports} names ("com1" to "com4" → backend), on the machine's port
     * bus. The backends opened are the bridge's: {@link #close} closes them, streams of a
     * {@link SerialBackendSpec.Streams} included.
     */
    public static LpcBridge withConsoles(MachineContext machine, Map<String, SerialBackendSpec> ports) {
        checkNames(ports);
        LpcBridge lpc = new LpcBridge();
        Map<Integer, SharedIrqLine> lines = new LinkedHashMap<>();
        Map<Integer, Integer> sourcesOnLine = new LinkedHashMap<>();
        try {
            for (ComPort com : COM_PORTS) {
                SerialBackendSpec spec = ports.get(com.name());
                if (spec == null) continue;
                SerialBackend backend = SerialBackends.open(spec);
                SharedIrqLine line = lines.computeIfAbsent(com.irq(), irq -> new SharedIrqLine(machine.irq(irq)));
                int source = sourcesOnLine.merge(com.irq(), 1, Integer::sum) - 1;
                SerialPort port = new SerialPort(com.name(), line.source(source), backend);
                lpc.ports.add(port);
                machine.ioPorts().register(com.base(), Uart16550.REGISTER_COUNT, com.name(), port.uart());
                if (backend instanceof PtyBackend pty) {
                    // The user needs this path to attach to the port: a warning, which jhyve's default level shows.
                    log.warn("{} is connected to {}", com.name(), pty.path());
                }
            }
            return lpc;
        } catch (RuntimeException e) {
            lpc.close();
            throw e;
        }
    }

    private static void checkNames(Map<String, ?> config) {
        for (String name : config.keySet()) {
            if (COM_PORTS.stream().noneMatch(p -> p.name().equals(name))) {
                throw new DeviceConfigException("lpc: unknown device " + name + " (" + COM_NAMES + ")");
            }
        }
    }

    /** The serial ports behind the bridge, COM1 first. */
    public List<SerialPort> ports() {
        return List.copyOf(ports);
    }

    @Override
    public void close() {
        for (SerialPort p : ports) p.close();
    }
}

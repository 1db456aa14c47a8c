package org.jhyve.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jhyve.config.ConfigTree;
import org.jhyve.devices.platform.IsaDebugExit;
import org.jhyve.devices.platform.PcTestdev;
import org.jhyve.devices.platform.QemuFwCfg;
import org.jhyve.vm.PlatformDevice;

/**
 * The LPC devices test programs use (kvm-unit-tests), none of them in a VM unless asked for:
 * <ul>
 *   <li>{@code -l pc-testdev} (bhyve's name; key {@code lpc.pc-testdev=true}): QEMU's pc-testdev;</li>
 *   <li>{@code -l isa-debug-exit[,iobase=N][,iosize=N]} (keys {@code lpc.isa-debug-exit.iobase},
 *       {@code lpc.isa-debug-exit.iosize}; 0xf4 and 4 unless given): QEMU's isa-debug-exit, whose guest
 *       write of v makes jhyve exit with status (v << 1) | 1, as QEMU;</li>
 *   <li>{@code -l fwcfg,qemu} (bhyve's flag; key {@code lpc.fwcfg=qemu}): the legacy ports of QEMU's fw_cfg.</li>
 * </ul>
 *
 * @param debugExit the isa-debug-exit ports, when one is configured
 */
record LpcTestDevices(boolean pcTestdev, Optional<IsaDebugExit> debugExit, boolean qemuFwCfg) {
    static final String PC_TESTDEV = "pc-testdev";
    static final String ISA_DEBUG_EXIT = "isa-debug-exit";
    static final String FWCFG = "fwcfg";
    static final String PC_TESTDEV_KEY = "lpc.pc-testdev";
    static final String DEBUG_EXIT_BASE_KEY = "lpc.isa-debug-exit.iobase";
    static final String DEBUG_EXIT_SIZE_KEY = "lpc.isa-debug-exit.iosize";
    static final String FWCFG_KEY = "lpc.fwcfg";

    static final LpcTestDevices NONE = new LpcTestDevices(false, Optional.empty(), false);

    /** True for the {@code -l} device names handled here. */
    static boolean handles(String device) {
        return device.equals(PC_TESTDEV) || device.equals(ISA_DEBUG_EXIT) || device.equals(FWCFG);
    }

    /** One {@code -l} flag for one of these devices, {@code device} lower-cased, {@code options} what follows its comma. */
    static void translate(String flag, String device, Optional<String> options, ConfigTree.Builder b) throws UsageException {
        switch (device) {
            case PC_TESTDEV -> {
                if (options.isPresent()) throw new UsageException(flag, "pc-testdev takes no options");
                once(flag, b, PC_TESTDEV_KEY);
                KeyErrors.set(b, PC_TESTDEV_KEY, "true", flag);
            }
            case FWCFG -> {
                String kind = options.orElse("").toLowerCase(Locale.ROOT);
                if (kind.equals("bhyve")) throw new UsageException(flag, "bhyve's own fw_cfg interface is not supported yet (fwcfg,qemu is)");
                if (!kind.equals("qemu")) throw new UsageException(flag, "expected fwcfg,qemu");
                once(flag, b, FWCFG_KEY);
                KeyErrors.set(b, FWCFG_KEY, "qemu", flag);
            }
            case ISA_DEBUG_EXIT -> {
                once(flag, b, DEBUG_EXIT_BASE_KEY);
                String base = "0xf4", size = "4";
                for (String option : options.map(o -> o.split(",", -1)).orElse(new String[0])) {
                    String[] kv = option.split("=", 2);
                    if (kv.length == 2 && kv[0].equals("iobase")) base = kv[1];
                    else if (kv.length == 2 && kv[0].equals("iosize")) size = kv[1];
                    else throw new UsageException(flag, "unknown isa-debug-exit option '" + option + "' (iobase=PORT, iosize=1, 2 or 4)");
                }
                KeyErrors.set(b, DEBUG_EXIT_BASE_KEY, base, flag);
                KeyErrors.set(b, DEBUG_EXIT_SIZE_KEY, size, flag);
            }
            default -> throw new IllegalArgumentException(device);
        }
    }

    private static void once(String flag, ConfigTree.Builder b, String key) throws UsageException {
        if (b.has(key)) throw new UsageException(flag, key.substring("lpc.".length()).replaceAll("\\..*", "") + " is configured twice");
    }

    /** The devices the tree asks for, each value checked. */
    static LpcTestDevices read(ConfigTree tree) throws UsageException {
        boolean testdev = tree.root().bool(PC_TESTDEV_KEY, false);
        Optional<String> fwcfg = tree.value(FWCFG_KEY);
        if (fwcfg.isPresent() && !fwcfg.get().equals("qemu")) {
            throw new UsageException(KeyErrors.origin(tree, FWCFG_KEY), "only fw_cfg=qemu is supported, not " + fwcfg.get());
        }
        Optional<String> base = tree.value(DEBUG_EXIT_BASE_KEY);
        Optional<String> size = tree.value(DEBUG_EXIT_SIZE_KEY);
        Optional<IsaDebugExit> debugExit = Optional.empty();
        if (base.isPresent() || size.isPresent()) {
            int port = number(tree, DEBUG_EXIT_BASE_KEY, base.orElse("0xf4"));
            int length = number(tree, DEBUG_EXIT_SIZE_KEY, size.orElse("4"));
            try {
                debugExit = Optional.of(new IsaDebugExit(port, length));
            } catch (IllegalArgumentException e) {
                throw new UsageException(KeyErrors.origin(tree, base.isPresent() ? DEBUG_EXIT_BASE_KEY : DEBUG_EXIT_SIZE_KEY), e.getMessage());
            }
        }
        return new LpcTestDevices(testdev, debugExit, fwcfg.isPresent());
    }

    /** A decimal or 0x-hexadecimal number, as QEMU's iobase=0xf4 or iosize=4. */
    private static int number(ConfigTree tree, String key, String text) throws UsageException {
        try {
            String t = text.strip().toLowerCase(Locale.ROOT);
            long v = t.startsWith("0x") ? Long.parseLong(t.substring(2), 16) : Long.parseLong(t);
            if (v < 0 || v > 0xffff) throw new NumberFormatException();
            return (int) v;
        } catch (NumberFormatException e) {
            throw new UsageException(KeyErrors.origin(tree, key), "not a port number (0-0xffff, decimal or 0x...): " + text);
        }
    }

    boolean any() {
        return pcTestdev || debugExit.isPresent() || qemuFwCfg;
    }

    /** A device object per configured device, new for each VM (pc-testdev keeps state). */
    List<PlatformDevice> create() {
        List<PlatformDevice> devices = new ArrayList<>();
        if (pcTestdev) devices.add(new PcTestdev());
        debugExit.ifPresent(devices::add);
        if (qemuFwCfg) devices.add(new QemuFwCfg());
        return List.copyOf(devices);
    }
}

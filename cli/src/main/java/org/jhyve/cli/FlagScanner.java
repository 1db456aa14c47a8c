package org.jhyve.cli;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The common command lines read without picocli, the way getopt(3) reads xhyve's: into the same
 * {@link CommandLine} picocli fills. Loading picocli (its classes are Java 5 class files, which no
 * class-data archive holds) and reading {@link CommandLine}'s annotations took about 0.2 s of every start on
 * a 2-core host; a VM that starts in a tenth of that cannot afford it. picocli stays the definition of the
 * flags and reads every line this class does not take.
 *
 * <p>Taken: switches ({@code -A}), clusters of switches ({@code -AHP}), a flag and its value as two
 * arguments or one ({@code -m 1G}, {@code -m1G}), the long flags, one operand. Anything else returns empty
 * and picocli parses the line, with its own messages: an unknown flag, a flag without its value, a value
 * that starts with {@code -}, a flag that takes one value given twice, {@code --}, a second operand.
 * {@code FlagScannerTest} checks that whenever this returns a result, picocli's is the same, and that the
 * table below names every flag {@link CommandLine} declares, with the same kind.
 */
final class FlagScanner {
    enum Kind { UNKNOWN, SWITCH, VALUE, LIST }

    private FlagScanner() {}

    static Optional<CommandLine> scan(String[] args) {
        CommandLine c = new CommandLine();
        Set<String> given = new HashSet<>();
        boolean operand = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                Kind kind = kind(a);
                if (kind == Kind.SWITCH) {
                    if (!given.add(canonical(a))) return Optional.empty();
                    set(c, a, null);
                } else if (kind == Kind.VALUE) {
                    if (i + 1 >= args.length || !plainValue(args[i + 1]) || !given.add(a)) return Optional.empty();
                    set(c, a, args[++i]);
                } else {
                    return Optional.empty();
                }
            } else if (a.startsWith("-") && a.length() >= 2) {
                String flag = a.substring(0, 2);
                Kind kind = kind(flag);
                if (kind == Kind.VALUE || kind == Kind.LIST) {
                    String value;
                    if (a.length() > 2) {
                        value = a.substring(2);
                    } else if (i + 1 < args.length) {
                        value = args[++i];
                    } else {
                        return Optional.empty();
                    }
                    if (!plainValue(value) || (kind == Kind.VALUE && !given.add(flag))) return Optional.empty();
                    set(c, flag, value);
                } else {
                    for (int k = 1; k < a.length(); k++) {
                        String s = "-" + a.charAt(k);
                        if (kind(s) != Kind.SWITCH || !given.add(canonical(s))) return Optional.empty();
                        set(c, s, null);
                    }
                }
            } else {
                if (operand || a.isEmpty() || a.startsWith("-")) return Optional.empty();
                operand = true;
                c.vmName = a;
            }
        }
        return Optional.of(c);
    }

    /** A value picocli would take as it is: not empty, not like a flag, no {@code =} where a separator would be. */
    private static boolean plainValue(String v) {
        return !v.isEmpty() && !v.startsWith("-") && !v.startsWith("=");
    }

    private static String canonical(String flag) {
        return switch (flag) {
            case "--help" -> "-h";
            case "--version" -> "-v";
            default -> flag;
        };
    }

    /** What {@code flag} is in {@link CommandLine}: as its annotations say (FlagScannerTest compares them). */
    static Kind kind(String flag) {
        return switch (flag) {
            case "-A", "-a", "-b", "-C", "-D", "-e", "-h", "--help", "-H", "-I", "-M", "-P", "-S", "-u", "-v", "--version",
                 "-w", "-W", "-x", "-Y", "--mmio-cross-check" -> Kind.SWITCH;
            case "-c", "-f", "-F", "-g", "-G", "-m", "-U", "-K", "-r", "--cpu-template", "--irqchip", "--trace", "--trace-filter" -> Kind.VALUE;
            case "-l", "-p", "-s", "-k", "-o" -> Kind.LIST;
            default -> Kind.UNKNOWN;
        };
    }

    private static void set(CommandLine c, String flag, String value) {
        switch (flag) {
            case "-A" -> c.acpi = true;
            case "-a" -> c.xapic = true;
            case "-b" -> c.bvmConsole = true;
            case "-C" -> c.coreMemory = true;
            case "-D" -> c.destroyOnPowerOff = true;
            case "-e" -> c.exitOnUnhandledIo = true;
            case "-h", "--help" -> c.help = true;
            case "-H" -> c.exitOnHlt = true;
            case "-I" -> c.ioapic = true;
            case "-M" -> c.printMac = true;
            case "-P" -> c.exitOnPause = true;
            case "-S" -> c.wiredMemory = true;
            case "-u" -> c.rtcUtc = true;
            case "-v", "--version" -> c.version = true;
            case "-w" -> c.ignoreMsrs = true;
            case "-W" -> c.singleMsi = true;
            case "-x" -> c.x2apic = true;
            case "-Y" -> c.noMpTable = true;
            case "--mmio-cross-check" -> c.mmioCrossCheck = true;
            case "-c" -> c.vcpus = value;
            case "-f" -> c.firmware = value;
            case "-F" -> c.pidFile = value;
            case "-g" -> c.gdbPort = value;
            case "-G" -> c.bhyveGdb = value;
            case "-m" -> c.memory = value;
            case "-U" -> c.uuid = value;
            case "-K" -> c.keyboardLayout = value;
            case "-r" -> c.restoreFile = value;
            case "--cpu-template" -> c.cpuTemplate = value;
            case "--irqchip" -> c.irqchip = value;
            case "--trace" -> c.traceFile = value;
            case "--trace-filter" -> c.traceFilter = value;
            case "-l" -> c.lpc.add(value);
            case "-p" -> c.pins.add(value);
            case "-s" -> c.slots.add(value);
            case "-k" -> c.configFiles.add(value);
            case "-o" -> c.configValues.add(value);
            default -> throw new IllegalArgumentException("not a flag: " + flag);
        }
    }
}

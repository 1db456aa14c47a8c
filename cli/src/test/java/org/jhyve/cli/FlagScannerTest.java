package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Option;

/**
 * {@link FlagScanner}, the start path's reader of the command line, against picocli, the definition: what the
 * scanner takes it must read as picocli does, and it must take the lines users type (else every start pays
 * picocli again).
 */
class FlagScannerTest {
    /** Every @Option of CommandLine is in the scanner's table with the kind its field has, and nothing else is. */
    @Test
    void theTableIsCommandLinesOptions() {
        List<String> declared = new ArrayList<>();
        for (Field f : CommandLine.class.getDeclaredFields()) {
            Option o = f.getAnnotation(Option.class);
            if (o == null) continue;
            FlagScanner.Kind expected = f.getType() == boolean.class ? FlagScanner.Kind.SWITCH
                    : f.getType() == List.class ? FlagScanner.Kind.LIST : FlagScanner.Kind.VALUE;
            for (String name : o.names()) {
                assertThat(FlagScanner.kind(name)).as(name).isEqualTo(expected);
                declared.add(name);
            }
        }
        for (char c = '!'; c <= '~'; c++) {
            String flag = "-" + c;
            if (!declared.contains(flag)) assertThat(FlagScanner.kind(flag)).as(flag).isEqualTo(FlagScanner.Kind.UNKNOWN);
        }
    }

    /** The lines of the README, docs/cli.md and scripts/bench-start: taken, and read as picocli reads them. */
    @Test
    void takesTheCommonLines() {
        for (String line : List.of(
                "-m 1G -c 2 -s 0:0,hostbridge -s 31,lpc -l com1,stdio -f kexec,KERNEL,INITRD,console=ttyS0",
                "-m 1G -s 0:0,hostbridge -s 31,lpc -l com1,stdio -s 2:0,virtio-net -s 3,ahci-cd,ubuntu.iso -s 4,virtio-blk,ubuntu.img -f kexec,vmlinuz,initrd.gz,earlyprintk=serial",
                "--cpu-template pvm -m 64M -s 0:0,hostbridge -s 31,lpc -l com1,stdio -f kexec,start-probe.elf,,",
                "-AHP -u -m1G -c 2 -g 1234 -U 0b9e1a1c-0000-4000-8000-000000000001 -F /tmp/pid -f kexec,k vm1",
                "-h", "--version", "-s help", "-l help", "-o memory.size=1G -k cfg -M -x -w -W -Y -S -e -C -D -I -a -b",
                "--trace t.txt --trace-filter pio -G w127.0.0.1:1234 -p 0:1 -K us -r x")) {
            String[] args = line.split(" ");
            assertThat(FlagScanner.scan(args)).as(line).isPresent();
            assertSameAsPicocli(args);
        }
    }

    /** What picocli must read itself, with its messages. */
    @Test
    void leavesTheRestToPicocli() {
        for (String line : List.of("-Q", "-m", "-m 1G -m 2G", "-A -A", "-f -s", "-- vm", "a b", "--trace=x", "-", "-Am1G", "-m -1", "--nope", "-h --help")) {
            assertThat(FlagScanner.scan(line.split(" "))).as(line).isEmpty();
        }
    }

    @Property(tries = 3000)
    void whatItTakesPicocliReadsTheSame(@ForAll("argv") List<String> argv) {
        assertSameAsPicocli(argv.toArray(String[]::new));
    }

    @Provide
    Arbitrary<List<String>> argv() {
        Arbitrary<String> token = Arbitraries.of("-A", "-a", "-b", "-c", "-C", "-D", "-e", "-f", "-F", "-g", "-G", "-h", "--help", "-H", "-I",
                "-l", "-m", "-M", "-p", "-P", "-s", "-S", "-u", "-U", "-v", "--version", "-w", "-W", "-x", "-Y", "-k", "-o", "-K", "-r",
                "--cpu-template", "--trace", "--trace-filter", "-AH", "-Hx", "-m1G", "-s0:0,hostbridge", "-lcom1,stdio", "-Q", "--", "-",
                "1G", "2", "kexec,k,,x", "0:0,hostbridge", "vm1", "vm2", "=x", "-1", "", "a b", "@x", "true", "-hv", "-Am", "--trace=x");
        return token.list().ofMaxSize(8);
    }

    /** When the scanner takes args, picocli accepts them too and fills every field alike. */
    private static void assertSameAsPicocli(String[] args) {
        Optional<CommandLine> scanned = FlagScanner.scan(args);
        if (scanned.isEmpty()) return;
        CommandLine parsed = new CommandLine();
        PicocliFlags.parser(parsed).parseArgs(args);
        assertThat(fields(scanned.get())).as(String.join(" ", args)).isEqualTo(fields(parsed));
    }

    private static Map<String, Object> fields(CommandLine c) {
        Map<String, Object> values = new TreeMap<>();
        try {
            for (Field f : CommandLine.class.getDeclaredFields()) {
                f.setAccessible(true);
                values.put(f.getName(), String.valueOf(f.get(c)));
            }
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
        return values;
    }
}

package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jhyve.devices.ahci.AhciDriveOptions;
import org.jhyve.devices.virtio.VirtioBlockOptions;
import org.jhyve.devices.virtio.VirtioNetOptions;
import org.jhyve.hv.CpuTopology;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line as one configuration tree: -o config.dump=1 prints it, -k of the dump is the same VM, -o and -k
 * set any key, and a key nobody knows or a malformed value is one line naming the key, status 4. None boots.
 */
class ConfigTreeCliTest {
    @TempDir
    static Path dir;
    static String kernel, initrd, disk, disk2, iso;

    @BeforeAll
    static void files() throws IOException {
        kernel = Files.writeString(dir.resolve("kernel"), "any file: validation comes first").toString();
        initrd = Files.writeString(dir.resolve("initrd"), "x").toString();
        disk = Files.write(dir.resolve("disk.img"), new byte[1 << 20]).toString();
        disk2 = Files.write(dir.resolve("disk2.img"), new byte[1 << 20]).toString();
        iso = Files.write(dir.resolve("cd.iso"), new byte[1 << 20]).toString();
    }

    /** A command line with every kind of setting: many -s devices, -l, topology, gdb, trace, kexec with a hard cmdline. */
    static List<String> fullCommandLine() {
        return List.of("-A", "-S", "-Y", "-e", "-H", "-P", "-D", "-a", "-m", "512M", "-c", "4,sockets=2,cores=2",
                "-U", "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio", "-l", "COM2,autopty",
                "-s", "2,virtio-net,hostfwd=tcp::2222-:22,hostfwd=udp:0.0.0.0:5353-:53,mac=02:00:00:00:00:01",
                "-s", "3:1,virtio-tap,tap0,queues=2",
                "-s", "4,virtio-blk," + disk + ",ro,sectorsize=4096,serial=ABC,num-queues=2",
                "-s", "5,ahci-cd," + iso,
                "-s", "6,ahci,hd:" + disk2 + ",nocache,cd:" + iso + ",hd:" + disk + ",ro,ser=X",
                "-G", "w127.0.0.1:2345", "--cpu-template", "host", "--trace", dir.resolve("t.trace").toString(), "--trace-filter", "pio",
                "-F", dir.resolve("jhyve.pid").toString(),
                "-f", "kexec," + kernel + "," + initrd + ",console=ttyS0,115200 root=/dev/vda1  msg=\"a, b\" x='y' #=z ",
                "vm1");
    }

    private static String[] with(List<String> args, String... more) {
        return Stream.concat(args.stream(), Stream.of(more)).toArray(String[]::new);
    }

    /** The spec {@code args} validate into (launch never boots); fails on any error line. */
    private static MachineSpec spec(String... args) {
        List<MachineSpec> launched = new ArrayList<>();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, System.out, new PrintStream(err, true, StandardCharsets.UTF_8), (spec, e) -> {
            launched.add(spec);
            return 0;
        });
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(status).isZero();
        return launched.getFirst();
    }

    private static String dump(String... args) {
        CliRun run = CliRun.of(args);
        assertThat(run.err()).isEmpty();
        assertThat(run.status()).isZero();
        return run.out();
    }

    private static void assertError(CliRun run, String expectedLine) {
        assertThat(run.status()).isEqualTo(4);
        assertThat(run.err()).isEqualTo("jhyve: " + expectedLine + System.lineSeparator());
        assertThat(run.out()).isEmpty();
    }

    @Test
    void theDumpOfAFullCommandLineReadBackIsTheSameVm() throws IOException {
        String dump = dump(with(fullCommandLine(), "-o", "config.dump=1"));
        Path file = Files.writeString(dir.resolve("dump.conf"), dump);
        // The same tree: the -k run's own dump is the same text (a key lost or mangled on the way shows here).
        assertThat(dump("-k", file.toString(), "-o", "config.dump=1")).isEqualTo(dump);
        MachineSpec fromFlags = spec(with(fullCommandLine()));
        MachineSpec fromFile = spec("-k", file.toString());
        // The records the VM is assembled from, the tree included (its values; origins differ by design).
        assertThat(fromFile).isEqualTo(fromFlags);
        assertThat(fromFile.config()).isEqualTo(fromFlags.config());
        assertThat(deviceSettings(fromFile)).isEqualTo(deviceSettings(fromFlags));
    }

    @Test
    void theTreeHoldsBhyvesKeysAndWhatTheFlagsSaid() {
        String dump = dump(with(fullCommandLine(), "-o", "config.dump=1"));
        assertThat(dump.lines()).as("sorted key=value lines").isSorted().allMatch(l -> l.matches("[a-z0-9_.-]+=.*"))
                .doesNotContain("config.dump=1")
                .contains("acpi_tables=true", "memory.size=512M", "cpus=4", "sockets=2", "cores=2", "x86.mptable=false", "memory.wired=true",
                        "name=vm1", "uuid=6ba7b810-9dad-11d1-80b4-00c04fd430c8", "gdb.port=2345", "gdb.wait=true", "gdb.address=127.0.0.1",
                        "lpc.com1.path=stdio", "lpc.com2.path=autopty", "pci.0.0.0.device=hostbridge", "pci.0.31.0.device=lpc",
                        "pci.0.2.0.device=virtio-net", "pci.0.2.0.hostfwd=tcp::2222-:22;udp:0.0.0.0:5353-:53", "pci.0.2.0.mac=02:00:00:00:00:01",
                        "pci.0.3.1.device=virtio-tap", "pci.0.3.1.backend=tap0", "pci.0.3.1.queues=2",
                        "pci.0.4.0.path=" + disk, "pci.0.4.0.ro=true", "pci.0.4.0.sectorsize=4096", "pci.0.4.0.serial=ABC",
                        "pci.0.5.0.device=ahci-cd", "pci.0.5.0.port.0.type=cd", "pci.0.5.0.port.0.path=" + iso,
                        "pci.0.6.0.port.0.type=hd", "pci.0.6.0.port.0.nocache=true", "pci.0.6.0.port.1.type=cd", "pci.0.6.0.port.2.ser=X",
                        "jhyve.kexec.kernel=" + kernel, "jhyve.kexec.initrd=" + initrd,
                        "jhyve.kexec.cmdline=console=ttyS0,115200 root=/dev/vda1  msg=\"a, b\" x='y' #=z ",
                        "jhyve.cpu_template=host", "jhyve.trace.filter=pio");
        MachineSpec spec = spec("-k", write("full.conf", dump));
        assertThat(spec.topology()).isEqualTo(new CpuTopology(2, 2, 1));
        assertThat(spec.firmware().cmdline()).as("spaces, commas, quotes and a trailing space kept")
                .isEqualTo("console=ttyS0,115200 root=/dev/vda1  msg=\"a, b\" x='y' #=z ");
        assertThat(spec.lpcPorts()).isEqualTo(Map.of("com1", "stdio", "com2", "autopty"));
        assertThat(spec.gdb()).contains(new GdbOption.Port(2345, true));
        assertThat(spec.slots()).extracting(PciSlotNode::emulation)
                .containsExactly("hostbridge", "virtio-net", "virtio-tap", "virtio-blk", "ahci-cd", "ahci", "lpc");
    }

    /** Each device's settings as its node gives them (MAC bytes as text, since arrays do not compare by value). */
    private static List<String> deviceSettings(MachineSpec spec) {
        List<String> settings = new ArrayList<>();
        for (PciSlotNode slot : spec.slots()) {
            settings.add(slot.address() + " " + switch (slot.emulation()) {
                case "virtio-net", "virtio-tap" -> {
                    VirtioNetOptions o = VirtioNetOptions.from(slot.node());
                    yield o.backend() + " " + o.mac().map(VirtioNetOptions::format) + " " + o.queuePairs();
                }
                case "virtio-blk" -> VirtioBlockOptions.from(slot.node()).toString();
                case "ahci", "ahci-cd", "ahci-hd" -> AhciDriveOptions.ports(slot.emulation(), slot.node()).toString();
                default -> slot.emulation();
            });
        }
        assertThat(settings).hasSize(7);
        return settings;
    }

    private static String write(String name, String text) {
        try {
            return Files.writeString(dir.resolve(name), text).toString();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void minusOSetsAnyKeyAndTheLastWins() {
        MachineSpec s = spec("-m", "1G", "-o", "memory.size=2G", "-o", "cpus=2", "-s", "2,virtio-net,tap0",
                "-o", "pci.0.2.0.mac=02:00:00:00:00:09", "-o", "jhyve.kexec.kernel=" + kernel, "-o", "jhyve.kexec.cmdline=a=b c");
        assertThat(s.memoryBytes()).isEqualTo(2L << 30);
        assertThat(s.vcpus()).isEqualTo(2);
        assertThat(s.firmware().cmdline()).isEqualTo("a=b c");
        assertThat(VirtioNetOptions.format(VirtioNetOptions.from(s.slots().getFirst().node()).mac().orElseThrow())).isEqualTo("02:00:00:00:00:09");
    }

    @Test
    void theOrderIsFlagsThenFilesThenMinusO() {
        String file = write("order.conf", "memory.size=64M\ncpus=3\n");
        MachineSpec s = spec("-m", "32M", "-k", file, "-o", "cpus=2", "-f", "kexec," + kernel);
        assertThat(s.memoryBytes()).as("-k after the flags").isEqualTo(64L << 20);
        assertThat(s.vcpus()).as("-o after -k").isEqualTo(2);
    }

    @Test
    void aVmFromAFileAlone() {
        String file = write("vm.conf", """
                # a small VM
                memory.size=128M
                pci.0.0.0.device=hostbridge
                pci.0.31.0.device=lpc
                lpc.com1.path=stdio
                pci.0.2.0.device=virtio-blk
                pci.0.2.0.path=%s
                pci.0.2.0.ro=yes
                jhyve.kexec.kernel=%s
                """.formatted(disk, kernel));
        MachineSpec s = spec("-k", file);
        assertThat(s.memoryBytes()).isEqualTo(128L << 20);
        assertThat(VirtioBlockOptions.from(s.slots().get(1).node()).readOnly()).isTrue();
    }

    @Test
    void unknownKeysAreNamed() {
        // A key no reader knows would otherwise do nothing at all: a typo (mac → macc) silently ignored.
        assertError(CliRun.of("-s", "2,virtio-net,tap0", "-o", "pci.0.2.0.macc=02:00:00:00:00:01", "-f", "kexec," + kernel),
                "-o pci.0.2.0.macc=02:00:00:00:00:01: unknown configuration key pci.0.2.0.macc");
        assertError(CliRun.of("-o", "memory.sise=1G", "-f", "kexec," + kernel), "-o memory.sise=1G: unknown configuration key memory.sise");
        String file = write("typo.conf", "cpus=1\n\nx86.mptabel=false\n");
        assertError(CliRun.of("-k", file, "-f", "kexec," + kernel), file + ":3: x86.mptabel=false: unknown configuration key x86.mptabel");
        assertError(CliRun.of("-o", "pci.0.0.0.pcireg.vendor=1", "-s", "0,hostbridge", "-f", "kexec," + kernel),
                "-o pci.0.0.0.pcireg.vendor=1: unknown configuration key pci.0.0.0.pcireg.vendor");
    }

    @Test
    void malformedValuesNameTheKeyAndWhatSetIt() {
        assertError(CliRun.of("-s", "2,virtio-net,tap0", "-o", "pci.0.2.0.mac=zz", "-f", "kexec," + kernel),
                "-o pci.0.2.0.mac=zz: virtio-net: mac=zz is not a MAC address (xx:xx:xx:xx:xx:xx)");
        assertError(CliRun.of("-o", "acpi_tables=maybe", "-f", "kexec," + kernel), "-o acpi_tables=maybe: acpi_tables=maybe is not a boolean (true or false)");
        String file = write("bad.conf", "cpus=two\n");
        assertError(CliRun.of("-k", file, "-f", "kexec," + kernel), file + ":1: cpus=two: not a number of vCPUs");
        assertError(CliRun.of("-o", "pci.0.2.0.device=floppy", "-f", "kexec," + kernel), "-o pci.0.2.0.device=floppy: unknown emulation 'floppy' (see -s help)");
        assertError(CliRun.of("-o", "pci.0.32.0.device=hostbridge", "-f", "kexec," + kernel),
                "-o pci.0.32.0.device=hostbridge: pci.0.32.0 is not a PCI function's node (pci.BUS.SLOT.FUNCTION in decimal: bus 0-255, slot 0-31, function 0-7)");
        assertError(CliRun.of("-o", "pci.0.2.0.mac=02:00:00:00:00:01", "-f", "kexec," + kernel),
                "-o pci.0.2.0.mac=02:00:00:00:00:01: pci.0.2.0 has no pci.0.2.0.device (its emulation)");
        assertError(CliRun.of("-o", "x86.x2apic=on", "-f", "kexec," + kernel), "-o x86.x2apic=on: x2APIC mode is not supported yet");
        assertError(CliRun.of("-o", "gdb.address=0.0.0.0", "-o", "gdb.port=1", "-f", "kexec," + kernel),
                "-o gdb.address=0.0.0.0: the gdb stub listens on 127.0.0.1 only (it serves jhyve's own user, which it can tell only for local peers)");
        assertError(CliRun.of("-o", "lpc.com1.path=stdio", "-f", "kexec," + kernel), "-o lpc.com1.path=stdio: needs an LPC device (-s 31,lpc)");
    }

    @Test
    void badMinusOAndMinusKAreOneLine() throws Exception {
        assertError(CliRun.of("-o", "memory.size", "-f", "kexec," + kernel), "-o memory.size: expected key=value (e.g. -o memory.size=1G)");
        assertError(CliRun.of("-o", "=1", "-f", "kexec," + kernel), "-o =1: expected key=value (e.g. -o memory.size=1G)");
        assertError(CliRun.of("-o", "a b=1", "-f", "kexec," + kernel),
                "-o a b=1: 'a b' is not a configuration key (names of letters, digits, _ and -, separated by dots)");
        assertError(CliRun.of("-s", "2,virtio-net", "-o", "pci.0.2.0=x", "-f", "kexec," + kernel),
                "-o pci.0.2.0=x: pci.0.2.0 has keys under it (pci.0.2.0.device), so it has no value of its own");
        String file = write("syntax.conf", "# fine\ncpus=1\nmemory.size 1G\n");
        assertError(CliRun.of("-k", file), file + ":3: expected key=value (a key is names of letters, digits, _ and -, separated by dots), not 'memory.size 1G'");
        assertError(CliRun.of("-k", dir.toString()), "-k " + dir + ": not a file");
        assertError(CliRun.of("-k", "/dev/zero"), "-k /dev/zero: not a file");
        assertError(CliRun.of("-k", write("big.conf", "#".repeat((int) CommandLineKeys.MAX_CONFIG_FILE + 1))),
                "-k " + dir.resolve("big.conf") + ": larger than 1 MiB: not a configuration file");
    }

    @Test
    void configDumpInAProcessPrintsTheTreeAndExitsZero() throws Exception {
        // As a user runs it: stdout is the dump alone, nothing on stderr, status 0, and no /dev/kvm needed (none is opened).
        JhyveProcess p = JhyveProcess.run("-m", "1G", "-c", "2", "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio",
                "-f", "kexec," + kernel + ",,console=ttyS0 quiet", "-o", "config.dump=true", "vm1");
        assertThat(p.err()).isEmpty();
        assertThat(p.status()).isZero();
        assertThat(p.out()).isEqualTo("""
                cpus=2
                jhyve.kexec.cmdline=console=ttyS0 quiet
                jhyve.kexec.kernel=%s
                lpc.com1.path=stdio
                memory.size=1G
                name=vm1
                pci.0.0.0.device=hostbridge
                pci.0.31.0.device=lpc
                """.formatted(kernel));
    }
}

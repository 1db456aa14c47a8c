package org.jhyve.cli;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jhyve.boot.BootException;
import org.jhyve.fuzz.Findings;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.HypervisorException;
import org.jhyve.hv.HypervisorVm;
import org.jhyve.hv.VmSpec;
import org.jhyve.vm.DeviceConfigException;

/**
 * Fuzz target for the command line (docs/reliability.md): {@link Main#run} on an argument vector the input
 * gives (arguments separated by NUL bytes, at most 24).
 *
 * <p>Random arguments can be a valid machine, and {@code Main.run} would then open /dev/kvm and boot it. So the
 * harness passes its own {@link Main.Launch}: every argument vector is checked by {@code Main.run} in full, and
 * one that describes a machine goes on into {@link VmAssembler#build} as booting would, but with a
 * {@link Hypervisor} that refuses to create a VM, so nothing native, no device and no file is opened. And every
 * '/' is removed from the arguments: no path can leave the working directory (no --trace file, no image, no
 * serial output file can be named anywhere it could do harm).
 *
 * <p>Documented: {@code Main.run} returns 0 (help, version, lists) or 4 (bad input), never throws;
 * {@code VmAssembler.build} throws only what booting turns into status 4 (UsageException, BootException,
 * DeviceConfigException, HypervisorException, IllegalArgumentException). Asserted: those; a status 4 comes with
 * a message on stderr starting "jhyve: ", on one line unless an argument itself holds a line break, and never
 * "jhyve: unexpected" (what {@code Main.run} says of an exception nobody expected).
 */
class CliFuzzTest {
    private static final int MAX_ARGS = 24;

    /** A hypervisor that never makes a VM: where VM assembly would touch the host, it stops. */
    private static final Hypervisor REFUSING = new Hypervisor() {
        @Override public String name() { return "refusing"; }

        @Override
        public HypervisorVm createVm(VmSpec spec) {
            throw new HypervisorException("this fuzz harness creates no VMs");
        }

        @Override public void close() { }
    };

    private static final java.util.regex.Pattern UNEXPECTED =
            java.util.regex.Pattern.compile("jhyve: unexpected ([a-z][a-z0-9_]*\\.)+[A-Z][\\w$]*(: | \\(at |$)");

    @DictionaryEntries({"-A", "-c", "-e", "-f", "-F", "-g", "-h", "-H", "-l", "-m", "-P", "-s", "-U", "-v", "-Y", "-b", "-C", "-M",
            "-p", "-u", "-w", "-W", "-x", "--trace", "--trace-filter", "--cpu-template", "help", "kexec,", "hostbridge", "amd_hostbridge",
            "lpc", "virtio-blk", "virtio-net", "ahci-hd", "ahci-cd", "ahci", "hd:", "cd:", "com1", "com2", "stdio", "autopty", "tcp=",
            "pom.xml", ",ro", ",nocache", ",sync", ",sectorsize=", ",serial=", ",num-queues=", ",mac=", ",queues=", "socket=udp:",
            "socket=unix:", "peer=", "1G", "512M", "0:0", "31", "4:1", "pvm", "host",
            // bhyve's flags and values (issue 16)
            "-a", "-D", "-G", "-I", "-k", "-K", "-o", "-r", "-S", "--help", "--version", "virtio-tap", "COM1", "com3", "com4",
            ",direct", ",nodelete", "cpus=", ",sockets=", ",cores=", ",threads=", "w127.0.0.1:", "0x", "vm1"})
    @FuzzTest(maxDuration = "10s")
    void run(byte[] input) throws Exception {
        Findings findings = new Findings("cli");
        String[] argv = arguments(input);
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                CliFuzzTest::assembleWithoutAHypervisor);
        String message = err.toString(StandardCharsets.UTF_8);
        findings.check(status == 0 || status == 4, "exit status " + status);
        // Main's line for an exception nobody expected names its class (a dotted Java name); a refused argument that
        // merely starts with "unexpected" (the campaign of 2026-12-02 found one) is "jhyve: ARG: why" and is fine.
        findings.check(!UNEXPECTED.matcher(message).lookingAt(), "an exception nobody expected: '" + message + "'");
        if (status == 4) {
            findings.check(message.startsWith("jhyve: "), "status 4 without a 'jhyve: ' message: '" + message + "'");
            boolean lineBreakGiven = String.join("", argv).chars().anyMatch(c -> c == '\n' || c == '\r');
            findings.check(lineBreakGiven || message.indexOf('\n') == message.length() - 1, "status 4 with more than one line: '" + message + "'");
        }
        findings.throwIfAny();
    }

    private static String[] arguments(byte[] input) {
        List<String> args = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= input.length && args.size() < MAX_ARGS; i++) {
            if (i == input.length || input[i] == 0) {
                if (i > start || i < input.length) args.add(new String(input, start, i - start, StandardCharsets.UTF_8).replace("/", ""));
                start = i + 1;
            }
        }
        return args.toArray(String[]::new);
    }

    /** Booting, as far as it goes without a hypervisor: the VM is assembled, and refused where it would be created. */
    private static int assembleWithoutAHypervisor(MachineSpec spec, PrintStream err) {
        // The trace file is opened (truncated) before the VM is created: a fuzzed "--trace pom.xml" would empty a
        // file of the module. What --trace may name was checked by MachineSpec already; assembly goes on without it.
        MachineSpec untraced = spec.withoutTrace();
        try {
            VmAssembler.build(untraced, REFUSING).close();
            err.println("jhyve: fuzz harness: a VM was built by a hypervisor that refuses to create one");
            return 3; // not a status Main.run may return here: a finding
        } catch (UsageException | BootException | DeviceConfigException | HypervisorException | IllegalArgumentException e) {
            err.println("jhyve: " + e.getMessage().lines().findFirst().orElse(""));
            return 4; // what booting turns these into
        }
    }
}

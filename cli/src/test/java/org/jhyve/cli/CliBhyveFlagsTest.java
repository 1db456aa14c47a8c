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
import org.jhyve.hv.CpuTopology;
import org.jhyve.devices.virtio.VirtioNetOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bhyve's and xhyve's flags that jhyve takes: what they turn into, checked on the validated spec without booting. */
class CliBhyveFlagsTest {
    @TempDir
    static Path dir;
    static String kernel;

    @BeforeAll
    static void kernelFile() throws IOException {
        kernel = Files.writeString(dir.resolve("kernel"), "any file").toString();
    }

    /** The spec the command line validates into (launch never boots), or fails with its error line. */
    private static MachineSpec spec(String... flags) {
        List<MachineSpec> launched = new ArrayList<>();
        List<String> args = new ArrayList<>(List.of(flags));
        args.addAll(List.of("-f", "kexec," + kernel));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args.toArray(String[]::new), System.out, new PrintStream(err, true, StandardCharsets.UTF_8), (spec, e) -> {
            launched.add(spec);
            return 0;
        });
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(status).isZero();
        return launched.getFirst();
    }

    @Test
    void cpuTopologyAsBhyveReadsIt() {
        assertThat(spec().topology()).isEqualTo(new CpuTopology(1, 1, 1));
        assertThat(spec("-c", "4").topology()).as("a count alone: one package, as jhyve had it").isEqualTo(new CpuTopology(1, 4, 1));
        assertThat(spec("-c", "cpus=4").topology()).isEqualTo(new CpuTopology(1, 4, 1));
        assertThat(spec("-c", "4,sockets=4").topology()).as("bhyve's and xhyve's -c 4").isEqualTo(new CpuTopology(4, 1, 1));
        assertThat(spec("-c", "4,sockets=2,cores=2").topology()).isEqualTo(new CpuTopology(2, 2, 1));
        assertThat(spec("-c", "8,sockets=2,cores=2,threads=2").topology()).isEqualTo(new CpuTopology(2, 2, 2));
        assertThat(spec("-c", "sockets=1,cores=4").topology()).as("the count from the topology").isEqualTo(new CpuTopology(1, 4, 1));
        assertThat(spec("-c", "cores=2,threads=2").topology()).as("sockets default to 1 without cpus=").isEqualTo(new CpuTopology(1, 2, 2));
        assertThat(spec("-c", "").topology()).isEqualTo(new CpuTopology(1, 1, 1));
        assertThat(spec("-c", "cores=1").topology()).as("a topology key: bhyve's rules").isEqualTo(new CpuTopology(1, 1, 1));
        assertThat(spec("-c", "0x2").vcpus()).isEqualTo(2);
    }

    @Test
    void comPortsAreCaseInsensitiveAndFourOfThem() {
        assertThat(spec("-s", "31,lpc", "-l", "COM1,stdio", "-l", "Com3,autopty", "-l", "com4,autopty").lpcPorts())
                .isEqualTo(Map.of("com1", "stdio", "com3", "autopty", "com4", "autopty"));
    }

    @Test
    void virtioTapIsVirtioNet() {
        assertThat(spec("-s", "2,virtio-tap,tap0").slots().getFirst().emulation()).isEqualTo("virtio-tap");
    }

    @Test
    void acceptedFlagsAndTheVmName() {
        MachineSpec s = spec("-D", "-a", "-I", "-S", "-G", "w127.0.0.1:2345", "vm1");
        assertThat(s.vmName()).contains("vm1");
        assertThat(s.wiredMemory()).isTrue();
        assertThat(s.gdb()).contains(new GdbOption.Port(2345));
        assertThat(spec("-G", "w2346").gdb()).contains(new GdbOption.Port(2346));
        assertThat(spec("-G", "2348").gdb()).as("without w the guest does not wait").contains(new GdbOption.Port(2348, false));
        assertThat(spec("-G", "wlocalhost:2347").gdb()).contains(new GdbOption.Port(2347));
        assertThat(spec().vmName()).isEmpty();
        assertThat(spec().wiredMemory()).isFalse();
    }

    @Test
    void printMacPrintsEachVirtioNetsMacAndExits() {
        CliRun run = CliRun.of("-M", "-s", "2,virtio-net,tap0,mac=02:11:22:33:44:55", "-s", "3,virtio-tap,tap1",
                "-U", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "-f", "kexec," + kernel);
        assertThat(run.status()).isZero();
        String derived = VirtioNetOptions.format(VirtioNetOptions.parse("tap1").macOr("6ba7b810-9dad-11d1-80b4-00c04fd430c8/0:3:0"));
        assertThat(run.out()).isEqualTo("MAC: 02:11:22:33:44:55" + System.lineSeparator() + "MAC: " + derived + System.lineSeparator());
        assertThat(run.err()).isEmpty();
    }

    @Test
    void printMacWithoutANetworkDeviceBootsAsXhyveDoes() {
        assertThat(spec("-M").printMac()).isTrue();
    }
}

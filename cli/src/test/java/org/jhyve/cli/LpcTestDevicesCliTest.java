package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jhyve.devices.platform.IsaDebugExit;
import org.jhyve.devices.platform.PcTestdev;
import org.jhyve.devices.platform.QemuFwCfg;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code -l pc-testdev}, {@code -l isa-debug-exit[,iobase=,iosize=]} and {@code -l fwcfg,qemu}: only in the VMs that ask for them. */
class LpcTestDevicesCliTest {
    @TempDir
    static Path dir;
    static String kernel;

    @BeforeAll
    static void kernelFile() throws IOException {
        kernel = Files.writeString(dir.resolve("kernel"), "any file: validation comes first").toString();
    }

    private static MachineSpec spec(String... flags) throws UsageException {
        return ParsedSpec.of(flags);
    }

    @Test
    void aVmHasNoneOfThemUnlessAsked() throws UsageException {
        MachineSpec spec = spec("-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + kernel);
        assertThat(spec.testDevices()).isEqualTo(LpcTestDevices.NONE);
        assertThat(spec.testDevices().create()).isEmpty();
    }

    @Test
    void eachFlagAddsItsDeviceAndIsaDebugExitDefaultsToKvmUnitTestsPorts() throws UsageException {
        MachineSpec spec = spec("-s", "31,lpc", "-l", "pc-testdev", "-l", "isa-debug-exit", "-l", "FWCFG,qemu", "-f", "kexec," + kernel);
        assertThat(spec.testDevices()).isEqualTo(new LpcTestDevices(true, Optional.of(new IsaDebugExit(0xf4, 4)), true));
        assertThat(spec.testDevices().create()).hasExactlyElementsOfTypes(PcTestdev.class, IsaDebugExit.class, QemuFwCfg.class);
        assertThat(spec.config().values()).containsEntry("lpc.pc-testdev", "true").containsEntry("lpc.fwcfg", "qemu")
                .containsEntry("lpc.isa-debug-exit.iobase", "0xf4").containsEntry("lpc.isa-debug-exit.iosize", "4");
    }

    @Test
    void isaDebugExitTakesQemusIobaseAndIosize() throws UsageException {
        MachineSpec spec = spec("-s", "31,lpc", "-l", "isa-debug-exit,iobase=0x501,iosize=2", "-f", "kexec," + kernel);
        assertThat(spec.testDevices().debugExit()).contains(new IsaDebugExit(0x501, 2));
    }

    @Test
    void theKeysAloneMakeTheSameDevices() throws UsageException, IOException {
        Path conf = Files.writeString(dir.resolve("vm.conf"), String.join("\n", "pci.0.31.0.device=lpc", "lpc.pc-testdev=true",
                "lpc.isa-debug-exit.iobase=244", "lpc.fwcfg=qemu", "lpc.bootrom=x", "").replace("lpc.bootrom=x\n", ""));
        MachineSpec spec = spec("-k", conf.toString(), "-f", "kexec," + kernel);
        assertThat(spec.testDevices()).isEqualTo(new LpcTestDevices(true, Optional.of(new IsaDebugExit(0xf4, 4)), true));
    }
}

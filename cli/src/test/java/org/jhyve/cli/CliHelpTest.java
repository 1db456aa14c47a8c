package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CliHelpTest {
    @Test
    void slotHelpListsEmulationsAndSaysWhichAreNotSupportedYet() {
        CliRun run = CliRun.of("-s", "help");
        assertThat(run.status()).isZero();
        assertThat(run.out()).contains("hostbridge", "lpc", "amd_hostbridge", "virtio-blk")
                .containsPattern("virtio-rnd .*\\(not supported yet\\)")
                .doesNotContainPattern("ahci-hd .*\\(not supported yet\\)")
                .doesNotContainPattern("ahci-cd .*\\(not supported yet\\)")
                .doesNotContainPattern("virtio-net .*\\(not supported yet\\)")
                .doesNotContainPattern("virtio-blk .*\\(not supported yet\\)");
        assertThat(run.err()).isEmpty();
    }

    @Test
    void lpcHelpListsDevicesAndBackends() {
        CliRun run = CliRun.of("-l", "help");
        assertThat(run.status()).isZero();
        assertThat(run.out()).contains("com1 (port 0x3f8, IRQ 4)", "stdio", "autopty", "tcp=IP:PORT")
                .contains("pc-testdev", "isa-debug-exit[,iobase=N][,iosize=N]", "fwcfg,qemu");
    }

    @Test
    void helpShowsXhyvesAndBhyvesSynopsisAndEveryEmulationsSyntax() {
        for (String flag : new String[] {"-h", "--help"}) {
            CliRun run = CliRun.of(flag);
            assertThat(run.status()).isZero();
            String nl = System.lineSeparator();
            assertThat(run.out()).startsWith("Usage: jhyve [-behuwxACDHMPSWY] [-c [[cpus=]N][,sockets=S][,cores=C][,threads=T]]" + nl
                            + "      [-F pidfile] [-g gdbport] [-G [w][bind:]port] [-l lpc] [-m mem]" + nl
                            + "      [-p vcpu:hostcpu] [-s pci] [-U uuid] -f <fw> [vmname]" + nl)
                    .contains("-s pci", "-l lpc", "--help", "--version")
                    // each emulation's and serial backend's option syntax, as -s help and -l help print them
                    .contains(CliRun.of("-s", "help").out(), CliRun.of("-l", "help").out());
        }
    }

    @Test
    void slotHelpShowsOptionSyntax() {
        assertThat(CliRun.of("-s", "help").out()).containsPattern("virtio-blk .*PATH\\[,ro\\].*\\[,nodelete\\]")
                .containsPattern("virtio-tap .*virtio-net")
                .containsPattern("ahci-hd .*\\[,nodelete\\]");
    }

    @Test
    void lpcHelpListsFourComPorts() {
        assertThat(CliRun.of("-l", "help").out()).contains("com3 (port 0x3e8, IRQ 4)", "com4 (port 0x2e8, IRQ 3)");
    }

    @Test
    void versionPrintsTheVersion() {
        assertThat(CliRun.of("-v").out()).isEqualTo(Main.VERSION + System.lineSeparator());
        assertThat(CliRun.of("--version").out()).isEqualTo(Main.VERSION + System.lineSeparator());
    }

    @Test
    void memorySizesFollowBhyve() throws UsageException {
        // vm_parse_memsize: a bare number below 1 MiB is MiB, from 1048576 up it is bytes; strtoul's base 0.
        assertThat(MemorySize.parse("1048575")).isEqualTo(1048575L << 20);
        assertThat(MemorySize.parse("1048576")).isEqualTo(1L << 20);
        assertThat(MemorySize.parse("268435456")).isEqualTo(256L << 20);
        assertThat(MemorySize.parse("0x100")).isEqualTo(256L << 20);
        assertThat(MemorySize.parse("0400")).as("octal").isEqualTo(256L << 20);
        assertThat(MemorySize.parse("4096B")).as("B alone is bytes").isEqualTo(4096);
        assertThat(MemorySize.parse("1p")).isEqualTo(1L << 50);
    }

    @Test
    void memorySizesFollowXhyve() throws UsageException {
        assertThat(MemorySize.parse("512")).isEqualTo(512L << 20);
        assertThat(MemorySize.parse("1G")).isEqualTo(1L << 30);
        assertThat(MemorySize.parse("2g")).isEqualTo(2L << 30);
        assertThat(MemorySize.parse("65536K")).isEqualTo(64L << 20);
        assertThat(MemorySize.parse("256MB")).isEqualTo(256L << 20);
        assertThat(MemorySize.parse("1T")).isEqualTo(1L << 40);
    }

    @Test
    void slotForms() throws UsageException {
        assertThat(PciSlotSpec.parse("31,lpc").address()).hasToString("0:31:0");
        assertThat(PciSlotSpec.parse("2:1,virtio-net,tap0").address()).hasToString("0:2:1");
        PciSlotSpec full = PciSlotSpec.parse("1:4:2,virtio-blk,disk.img,ro,sectorsize=4096");
        assertThat(full.address()).hasToString("1:4:2");
        assertThat(full.emulation()).isEqualTo("virtio-blk");
        assertThat(full.options()).isEqualTo("disk.img,ro,sectorsize=4096");
    }

    @Test
    void firmwareCommandLineKeepsItsCommas(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var kernel = java.nio.file.Files.writeString(dir.resolve("k"), "x");
        FirmwareSpec f = FirmwareSpec.parse("kexec," + kernel + ",,console=ttyS0,115200 root=/dev/vda1");
        assertThat(f.initrd()).isEmpty();
        assertThat(f.cmdline()).isEqualTo("console=ttyS0,115200 root=/dev/vda1");
    }
}

package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bad input: exactly one line on stderr naming the flag, exit status 4, and no hypervisor touched
 * (these run without /dev/kvm).
 */
class CliErrorsTest {
    @TempDir
    static Path dir;
    static String kernel;

    @BeforeAll
    static void kernelFile() throws IOException {
        kernel = Files.writeString(dir.resolve("kernel"), "any file: validation comes first").toString();
    }

    private static void assertError(CliRun run, String expectedLine) {
        assertThat(run.status()).isEqualTo(4);
        assertThat(run.err()).isEqualTo("jhyve: " + expectedLine + System.lineSeparator());
        assertThat(run.out()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "-s 4,floppy                | -s 4,floppy: unknown emulation 'floppy' (see -s help)",
            "-s 32,hostbridge           | -s 32,hostbridge: PCI slot must be 0-31",
            "-s 2:8,hostbridge          | -s 2:8,hostbridge: PCI function must be 0-7",
            "-s 256:0:0,hostbridge      | -s 256:0:0,hostbridge: PCI bus must be 0-255",
            "-s x,hostbridge            | -s x,hostbridge: PCI slot 'x' is not a number",
            "-s 3                       | -s 3: expected slot[:func],emulation[,conf]",
            "-s 4,virtio-rnd            | -s 4,virtio-rnd: virtio-rnd is not supported yet",
            "-s 4,ahci-cd,/no/x.iso     | -s 4,ahci-cd,/no/x.iso: ahci-cd: /no/x.iso: no such file",
            "-s 4,ahci-hd,/dev/null,sectorsize=1000 | -s 4,ahci-hd,/dev/null,sectorsize=1000: ahci-hd: sector size 1000 is not a power of two from 512 to 65536",
            "-s 4,ahci,x.img            | -s 4,ahci,x.img: ahci: 'x.img': each port starts with hd:PATH or cd:PATH",
            "-s 4,virtio-net,hostfwd=tcp::x-:22 | -s 4,virtio-net,hostfwd=tcp::x-:22: virtio-net: hostfwd=tcp::x-:22: 'x' is not a port (1-65535)",
            "-s 4,virtio-net,tap0,hostfwd=tcp::22-:22 | -s 4,virtio-net,tap0,hostfwd=tcp::22-:22: virtio-net: hostfwd= belongs to user-mode networking (slirp, the default), not to tap0",
            "-s 4,virtio-net,tap0,mac=zz | -s 4,virtio-net,tap0,mac=zz: virtio-net: mac=zz is not a MAC address (xx:xx:xx:xx:xx:xx)",
            "-s 4,virtio-net,tap0,mac=01:00:5e:00:00:01 | -s 4,virtio-net,tap0,mac=01:00:5e:00:00:01: virtio-net: mac=01:00:5e:00:00:01 is a multicast address",
            "-s 4,virtio-net,socket=udp:127.0.0.1:5000 | -s 4,virtio-net,socket=udp:127.0.0.1:5000: virtio-net: socket=udp:127.0.0.1:5000 needs peer= (where frames go)",
            "-s 4,virtio-net,tap0,speed=10 | -s 4,virtio-net,tap0,speed=10: virtio-net: unknown option 'speed=10' (known: TAPNAME, tap=, socket=, peer=, slirp, hostfwd=, mac=, queues=)",
            "-s 4,virtio-blk,/no/disk.img | -s 4,virtio-blk,/no/disk.img: virtio-blk: /no/disk.img: no such file",
            "-s 4,virtio-blk            | -s 4,virtio-blk: virtio-blk needs a disk image path: -s SLOT,virtio-blk,PATH",
            "-s 4,virtio-blk,/,ro       | -s 4,virtio-blk,/,ro: virtio-blk: / is a directory",
            "-s 4,virtio-blk,/dev/null,sectorsize=1000 | -s 4,virtio-blk,/dev/null,sectorsize=1000: virtio-blk: sector size 1000 is not a power of two from 512 to 65536",
            "-s 4,virtio-blk,/dev/null,num-queues=0 | -s 4,virtio-blk,/dev/null,num-queues=0: virtio-blk: num-queues=0: use 1-16",
            "-s 4,virtio-blk,/dev/null,fast | -s 4,virtio-blk,/dev/null,fast: virtio-blk: unknown option 'fast' (known: ro, nocache, sync, direct, nodelete, sectorsize=, serial=, num-queues=)",
            "-m 0                       | -m 0: memory size must be positive",
            "-m 3X                      | -m 3X: unknown size suffix (use K, M, G or T)",
            "-m lots                    | -m lots: not a memory size (e.g. 512M or 2G)",
            "-m 1K                      | -m 1K: guest memory must be at least 1 MiB",
            "-m 1025K                   | -m 1025K: guest memory must be a multiple of 4 KiB",
            "-c 0                       | -c 0: vCPU count must be 1-255",
            "-c two                     | -c two: not a number of vCPUs",
            "-U 1-2-3-4-5               | -U 1-2-3-4-5: not a UUID (e.g. 6ba7b810-9dad-11d1-80b4-00c04fd430c8)",
            "-l com5,stdio              | -l com5,stdio: unknown LPC device 'com5' (com1, com2, com3 or com4; pc-testdev, isa-debug-exit or fwcfg,qemu)",
            "-l COM3,stdio              | -l COM3,stdio: needs an LPC device (-s 31,lpc)",
            "-l bootrom,x.fd            | -l bootrom,x.fd: the LPC device bootrom is not supported yet",
            "-l pc-testdev              | -l pc-testdev: needs an LPC device (-s 31,lpc)",
            "-s 31,lpc -l pc-testdev,x  | -l pc-testdev,x: pc-testdev takes no options",
            "-s 31,lpc -l fwcfg,bhyve   | -l fwcfg,bhyve: bhyve's own fw_cfg interface is not supported yet (fwcfg,qemu is)",
            "-s 31,lpc -l fwcfg         | -l fwcfg: expected fwcfg,qemu",
            "-s 31,lpc -l isa-debug-exit,iobase=0x10000 | -l isa-debug-exit,iobase=0x10000: not a port number (0-0xffff, decimal or 0x...): 0x10000",
            "-s 31,lpc -l isa-debug-exit,iosize=3 | -l isa-debug-exit,iosize=3: iosize must be 1, 2 or 4: 3",
            "-s 31,lpc -l isa-debug-exit,size=4 | -l isa-debug-exit,size=4: unknown isa-debug-exit option 'size=4' (iobase=PORT, iosize=1, 2 or 4)",
            "-s 31,lpc -l pc-testdev -l PC-TESTDEV | -l PC-TESTDEV: pc-testdev is configured twice",
            "-c cpus=4,cores=2          | -c cpus=4,cores=2: topology (4 sockets, 2 cores, 1 threads) does not match 4 vCPUs",
            "-c sockets=2,cores=0       | -c sockets=2,cores=0: cores= must be 1-255",
            "-c 2,dies=2                | -c 2,dies=2: unknown key 'dies' (cpus=, sockets=, cores=, threads=)",
            "-c sockets=16,cores=16     | -c sockets=16,cores=16: vCPU count must be 1-255",
            "-G w0.0.0.0:1234           | -G w0.0.0.0:1234: the gdb stub listens on 127.0.0.1 only (it serves jhyve's own user, which it can tell only for local peers)",
            "-G wlocalhost:x            | -G wlocalhost:x: expected [w][BIND:]PORT with PORT 0-65535",
            "-g 1234 -G w1235           | -G w1235: -g 1234 already says where gdb connects",
            "-k /no/vm.conf             | -k /no/vm.conf: no such file",
            "-o memory.size=lots        | -o memory.size=lots: not a memory size (e.g. 512M or 2G)",
            "-K de                      | -K de: there is no PS/2 keyboard to give a layout",
            "-r vm.ckp                  | -r vm.ckp: checkpoint and restore are not supported",
            "-C                         | -C: guest memory in core files (the JVM's core dump excludes nothing it maps) is not supported yet",
            "-m 0x                      | -m 0x: unknown size suffix (use K, M, G or T)",
            "-m 09                      | -m 09: not a memory size (a leading 0 is octal)",
            "-l com1,stdio              | -l com1,stdio: needs an LPC device (-s 31,lpc)",
            "-l com1                    | -l com1: expected com1,BACKEND",
            "-g 70000                   | -g 70000: not a TCP port (1-65535) or unix:PATH",
            "-g unix:                   | -g unix:: expected unix:PATH",
            "-p 0:1                     | -p 0:1: vCPU pinning is not supported yet",
            "-x                         | -x: x2APIC mode is not supported yet",
            "--cpu-template skylake     | --cpu-template skylake: unknown CPU template 'skylake' (host, pvm)",
            "--irqchip split            | --irqchip split: unknown irqchip 'split' (kernel, userspace)",
    })
    void badFlagsNameTheFlag(String flags, String message) {
        String[] args = (flags + " -f kexec," + kernel).split(" ");
        assertError(CliRun.of(args), message.replace("KERNEL", kernel));
    }

    @Test
    void slotUsedTwice() {
        assertError(CliRun.of("-s", "0,hostbridge", "-s", "0:0,lpc", "-f", "kexec," + kernel),
                "-s 0:0,lpc: PCI slot 0:0:0 is already used");
    }

    @Test
    void comPortConfiguredTwice() {
        assertError(CliRun.of("-s", "31,lpc", "-l", "com1,stdio", "-l", "com1,autopty", "-f", "kexec," + kernel),
                "-l com1,autopty: com1 is configured twice");
    }

    @Test
    void badSerialBackend() {
        assertError(CliRun.of("-s", "31,lpc", "-l", "com1,tcp=1.2.3.4", "-f", "kexec," + kernel),
                "-l com1,tcp=1.2.3.4: tcp= needs IP:PORT, got '1.2.3.4'");
    }

    @Test
    void memoryLargerThanTheHost() {
        CliRun run = CliRun.of("-m", "64T", "-f", "kexec," + kernel);
        assertThat(run.status()).isEqualTo(4);
        assertThat(run.err()).startsWith("jhyve: -m 64T: memory too large for the host (67108864 MiB > ").hasLineCount(1);
    }

    @Test
    void missingKernelAndInitrd() {
        assertError(CliRun.of("-f", "kexec,/no/such/kernel"), "-f kexec,/no/such/kernel: kernel /no/such/kernel does not exist");
        assertError(CliRun.of("-f", "kexec," + kernel + ",/no/initrd,console=ttyS0"),
                "-f kexec," + kernel + ",/no/initrd,console=ttyS0: initrd /no/initrd does not exist");
        assertError(CliRun.of("-f", "kexec," + dir), "-f kexec," + dir + ": kernel " + dir + " is not a file");
    }

    @Test
    void devicesAndFifosAreNotKernels() throws Exception {
        assertError(CliRun.of("-f", "kexec,/dev/zero"), "-f kexec,/dev/zero: kernel /dev/zero is not a file");
        assertError(CliRun.of("-f", "kexec," + kernel + ",/dev/zero"), "-f kexec," + kernel + ",/dev/zero: initrd /dev/zero is not a file");
        Path fifo = dir.resolve("fifo");
        org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo failed");
        assertError(CliRun.of("-f", "kexec," + fifo), "-f kexec," + fifo + ": kernel " + fifo + " is not a file");
    }

    @Test
    void aPathThatCannotBeAPathIsOneLine() {
        // Only an in-process caller can pass a NUL (exec cannot); Path.of threw InvalidPathException out of Main.run.
        assertError(CliRun.of("-f", "kexec,a\0b"), "-f kexec,a\0b: kernel 'a\\0b' is not a valid path: Nul character not allowed");
        assertError(CliRun.of("-f", "kexec," + kernel + ",x\0y"), "-f kexec," + kernel + ",x\0y: initrd 'x\\0y' is not a valid path: Nul character not allowed");
    }

    @Test
    void atFilesAreNotExpanded() throws IOException {
        // picocli read "@FILE" as more arguments: "@/dev/stdin" waited on stdin, "@/dev/zero" read until the heap ran out.
        Path args = Files.writeString(dir.resolve("args"), "-v\n");
        // The first positional argument is bhyve's vmname, so the @FILE comes second.
        assertError(CliRun.of("-f", "kexec," + kernel, "vm1", "@" + args), "@" + args + ": unexpected argument");
        assertError(CliRun.of("-f", "kexec," + kernel, "vm1", "@/dev/zero"), "@/dev/zero: unexpected argument");
    }

    @Test
    void firmwareKinds() {
        assertError(CliRun.of("-f", "fbsd,userboot.so,disk.img"), "-f fbsd,userboot.so,disk.img: the FreeBSD loader (fbsd) is not supported");
        assertError(CliRun.of("-f", "bios,x"), "-f bios,x: unknown firmware 'bios' (kexec,KERNEL,INITRD,CMDLINE)");
        assertError(CliRun.of("-m", "64M"), "-f: missing: say what to boot (-f kexec,KERNEL,INITRD,CMDLINE)");
    }

    @Test
    void unknownFlagsAndMissingValuesAreOneLine() {
        assertError(CliRun.of("-Q"), "-Q: unknown flag (see -h)");
        assertError(CliRun.of("-m"), "Missing required parameter for option '-m' (mem)");
        // One positional argument, bhyve's vmname; a second is unexpected.
        assertError(CliRun.of("-f", "kexec," + kernel, "vm1", "extra"), "extra: unexpected argument");
        assertError(CliRun.of("-f", "kexec," + kernel, "a/b"), "a/b: a VM name is 1-32 printable characters without spaces or /");
    }

    @Test
    void pidFileIsNotLeftBehindAfterAnError() {
        Path pid = dir.resolve("jhyve.pid");
        CliRun run = CliRun.of("-F", pid.toString(), "-s", "4,floppy", "-f", "kexec," + kernel);
        assertThat(run.status()).isEqualTo(4);
        assertThat(pid).doesNotExist();
    }
}

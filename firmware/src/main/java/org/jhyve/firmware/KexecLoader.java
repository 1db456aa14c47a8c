package org.jhyve.firmware;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.jhyve.boot.BootLoader;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.boot.BootState;
import org.jhyve.memory.GuestMemory;

/**
 * xhyve's {@code -f kexec,KERNEL,INITRD,CMDLINE}: boots {@code kernel} directly, without firmware.
 * The format comes from the file's bytes ({@link ImageFormat#detect}); boot sectors start in real mode at
 * 0000:7c00, ELF64 programs in long mode at their entry point, and an ELF vmlinux with a PVH note through
 * its PVH entry, a Linux bzImage through its 64-bit entry, and a Multiboot kernel in 32-bit protected mode
 * with the initrd as its one module ({@link MultibootLoader}). An empty or blank {@code cmdline} means none.
 */
public record KexecLoader(Path kernel, Optional<Path> initrd, String cmdline, boolean acpi,
                          CpuTemplate cpuTemplate, boolean mpTable) implements BootLoader {
    public KexecLoader {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(cmdline, "cmdline");
        Objects.requireNonNull(cpuTemplate, "cpuTemplate");
    }

    /** With an MP table, as xhyve (whose {@code -Y} leaves it out). */
    public KexecLoader(Path kernel, Optional<Path> initrd, String cmdline, boolean acpi, CpuTemplate cpuTemplate) {
        this(kernel, initrd, cmdline, acpi, cpuTemplate, true);
    }

    /** Without ACPI tables (xhyve's default; {@code -A} asks for them) and with the host CPU template. */
    public KexecLoader(Path kernel, Optional<Path> initrd, String cmdline) {
        this(kernel, initrd, cmdline, false, CpuTemplate.HOST);
    }

    /** The command line a Linux kernel gets: the user's, plus what the CPU template needs. */
    public String linuxCommandLine() {
        return cpuTemplate.appendTo(cmdline.strip());
    }

    /** A kernel or program with no initrd and no command line. */
    public static KexecLoader of(Path kernel) {
        return new KexecLoader(kernel, Optional.empty(), "");
    }

    @Override
    public BootState load(GuestMemory memory, int vcpuCount) {
        return load(ImageFiles.read(kernel, memory.totalSize()), memory, vcpuCount);
    }

    /** Boots {@code image}, the kernel file's bytes ({@link #kernel} names it in messages): the entry for fuzz targets. */
    BootState load(byte[] image, GuestMemory memory, int vcpuCount) {
        return switch (ImageFormat.detect(kernel, image)) {
            case ImageFormat.BootSector ignored -> {
                refuseKernelArguments("a boot-sector program");
                if (acpi) AcpiTables.install(memory, vcpuCount);
                yield BootSectorLoader.load(kernel, image, memory);
            }
            case ImageFormat.Elf64Program program -> {
                refuseKernelArguments("an ELF64 program");
                if (acpi) AcpiTables.install(memory, vcpuCount);
                yield Elf64ProgramLoader.load(kernel, program.elf(), image, memory);
            }
            case ImageFormat.LinuxBzImage bzImage -> {
                if (mpTable) MpTable.install(memory, vcpuCount);
                yield BzImageLoader.load(kernel, image, memory, readInitrd(memory),
                        linuxCommandLine(), acpi ? AcpiTables.install(memory, vcpuCount) : 0);
            }
            case ImageFormat.Multiboot multiboot -> {
                // The tables live in the BIOS area, which MultibootLoader refuses to let a kernel overlap.
                if (mpTable) MpTable.install(memory, vcpuCount);
                if (acpi) AcpiTables.install(memory, vcpuCount);
                yield MultibootLoader.load(kernel, multiboot, image, memory, readInitrd(memory), initrd, cmdline);
            }
            case ImageFormat.ElfPvhKernel pvh -> {
                if (mpTable) MpTable.install(memory, vcpuCount);
                yield PvhLoader.load(kernel, pvh.elf(), pvh.pvhEntry(), image, memory,
                        readInitrd(memory), linuxCommandLine(),
                        acpi ? AcpiTables.install(memory, vcpuCount) : 0);
            }
        };
    }

    /** The initrd's bytes, at most guest RAM; an empty file is refused, since a kernel would find nothing there. */
    private Optional<byte[]> readInitrd(GuestMemory memory) {
        return initrd.map(path -> {
            byte[] bytes = ImageFiles.read(path, memory.totalSize());
            if (bytes.length == 0) throw BootErrors.about(path, "the initrd is empty");
            return bytes;
        });
    }

    /** Programs have nowhere to receive an initrd or a command line: say so rather than drop them silently. */
    private void refuseKernelArguments(String what) {
        if (initrd.isPresent()) throw BootErrors.about(kernel, what + " takes no initrd (" + initrd.get() + " was given)");
        if (!cmdline.isBlank()) throw BootErrors.about(kernel, what + " takes no kernel command line (\"" + cmdline + "\" was given)");
    }
}

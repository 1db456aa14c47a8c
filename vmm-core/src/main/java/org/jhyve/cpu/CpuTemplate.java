package org.jhyve.cpu;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What a guest is told about its CPU, and what a Linux guest must be asked to avoid. {@code host} passes
 * the hypervisor's CPUID through; {@code pvm} is for hosts whose KVM has no VMX/SVM and emulates guest
 * kernel code: CPUID masking barely works there (kernel code sees host bits outside KVM's supported set),
 * so the features whose instructions the emulator rejects are turned off with kernel parameters instead.
 */
public record CpuTemplate(String name, String description, String kernelParameters) {
    /**
     * The parameters measured to keep a 6.1 kernel off the instructions KVM's emulator rejects. They live in
     * the resource {@code pvm-kernel-parameters} beside this class, one line, because the benchmark scripts
     * give QEMU's guest the same line and read it from there (scripts/lib/bench.sh).
     */
    public static final CpuTemplate PVM = new CpuTemplate("pvm",
            "for KVM without VMX/SVM: Intel vendor, instruction-set features the emulator rejects turned off",
            resourceLine("pvm-kernel-parameters"));
    public static final CpuTemplate HOST = new CpuTemplate("host", "the hypervisor's CPUID as it is", "");

    public static final List<CpuTemplate> ALL = List.of(HOST, PVM);

    /** @throws IllegalArgumentException naming the known templates */
    public static CpuTemplate byName(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        return ALL.stream().filter(t -> t.name().equals(wanted)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "unknown CPU template '" + name + "' (" + ALL.stream().map(CpuTemplate::name).collect(Collectors.joining(", ")) + ")"));
    }

    /** The template for a host: {@code pvm} where the CPU has no hardware virtualization. */
    public static CpuTemplate forHost(boolean hardwareVirtualization) {
        return hardwareVirtualization ? HOST : PVM;
    }

    private static String resourceLine(String name) {
        try (InputStream in = CpuTemplate.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("resource " + name + " is missing beside " + CpuTemplate.class.getName());
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code cmdline} with this template's parameters appended (none appended when there are none). */
    public String appendTo(String cmdline) {
        if (kernelParameters.isEmpty()) return cmdline;
        return cmdline.isBlank() ? kernelParameters : cmdline.strip() + " " + kernelParameters;
    }
}

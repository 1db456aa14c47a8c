package org.jhyve.cpu;

import static org.jhyve.hv.CpuidModifier.Register.EAX;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;
import org.jhyve.hv.CpuidModifier;

/**
 * jhyve's CPU policy for a guest, as data (as Firecracker's CPU templates are): what its CPUID shows,
 * as changes to the hypervisor's supported CPUID that the hypervisor applies to every vCPU
 * ({@link CpuidModifier#applyAll}, through {@link org.jhyve.hv.VmSpec#cpuid()}), and the parameters a Linux
 * kernel must be given ({@link #appendTo}, by the kexec loader). One template is chosen per VM: the one asked
 * for, or {@link #forHost} from the hypervisor.
 *
 * <ul>
 * <li>{@code host}: KVM's supported CPUID as it is (the host's vendor, every feature KVM offers), no kernel
 *     parameters. For hosts with VMX/SVM.
 * <li>{@code pvm}: for hosts whose KVM has no VMX/SVM and emulates guest kernel code. The vendor string is
 *     GenuineIntel (an AMD one sends Linux down AMD-only paths: an FPU workaround with instructions the
 *     emulator rejects, or "unknown vendor" with a kernel built for Intel only), and the KVM paravirt features
 *     that need hypercalls are hidden: measured here, a guest's VMCALL for PV send-IPI never completed (the AP
 *     stayed on it; SMP boot hung), so PV_UNHALT (7), PV_SEND_IPI (11) and PV_SCHED_YIELD (13) of leaf
 *     0x40000001 read as 0; kvm-clock and the MSR-based features stay. Other features are not hidden in
 *     CPUID: masking barely works there (kernel code sees host bits outside KVM's supported set), so those
 *     whose instructions the emulator rejects (CX16, RDRAND, ...) are turned off with kernel parameters.
 * </ul>
 */
public record CpuTemplate(String name, String description, List<CpuidModifier> cpuid, String kernelParameters) {
    public CpuTemplate {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        cpuid = List.copyOf(cpuid);
        Objects.requireNonNull(kernelParameters, "kernelParameters");
    }

    /** Leaf 0x40000001 EAX: KVM_FEATURE_PV_UNHALT (7), PV_SEND_IPI (11), PV_SCHED_YIELD (13). */
    public static final int PV_HYPERCALL_FEATURES = 1 << 7 | 1 << 11 | 1 << 13;
    /** KVM's paravirt feature leaf (with KVM's signature at 0x40000000). */
    public static final int KVM_CPUID_FEATURES = 0x40000001;

    /**
     * The kernel parameters measured to keep a 6.1 kernel off the instructions KVM's emulator rejects live in
     * the resource {@code pvm-kernel-parameters} beside this class, one line, because the benchmark scripts
     * give QEMU's guest the same line and read it from there (scripts/lib/bench.sh).
     */
    public static final CpuTemplate PVM = new CpuTemplate("pvm",
            "for KVM without VMX/SVM: Intel vendor, no hypercall-based PV features, instruction-set features the emulator rejects turned off",
            concat(CpuidModifier.vendor("GenuineIntel"), CpuidModifier.clear(KVM_CPUID_FEATURES, EAX, PV_HYPERCALL_FEATURES)),
            resourceLine("pvm-kernel-parameters"));
    public static final CpuTemplate HOST = new CpuTemplate("host", "the hypervisor's CPUID as it is", List.of(), "");

    public static final List<CpuTemplate> ALL = List.of(HOST, PVM);

    /** @throws IllegalArgumentException naming the known templates */
    public static CpuTemplate byName(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        return ALL.stream().filter(t -> t.name().equals(wanted)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "unknown CPU template '" + name + "' (" + ALL.stream().map(CpuTemplate::name).collect(Collectors.joining(", ")) + ")"));
    }

    /**
     * The template for a host: {@code pvm} where the CPU has no hardware virtualization, else {@code host}.
     * The fact comes from the hypervisor ({@link org.jhyve.hv.Hypervisor#hasHardwareVirtualization()}).
     */
    public static CpuTemplate forHost(boolean hardwareVirtualization) {
        return hardwareVirtualization ? HOST : PVM;
    }

    private static List<CpuidModifier> concat(List<CpuidModifier> first, CpuidModifier last) {
        List<CpuidModifier> all = new ArrayList<>(first);
        all.add(last);
        return all;
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

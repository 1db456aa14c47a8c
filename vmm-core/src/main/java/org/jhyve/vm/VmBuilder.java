package org.jhyve.vm;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.jhyve.boot.BootLoader;
import org.jhyve.cpu.CpuTemplate;
import org.jhyve.hv.CpuTopology;
import org.jhyve.hv.Hypervisor;
import org.jhyve.hv.InterruptPlatform;
import org.jhyve.pci.PciAddress;
import org.jhyve.trace.TraceConfig;

/**
 * Describes a VM, then builds it on a hypervisor. Validation happens here (or in {@link #build()}) with
 * one-line messages, so the CLI and programs that embed jhyve report the same errors.
 *
 * <pre>{@code
 * try (VirtualMachine vm = VmBuilder.on(hypervisor).memory(256L << 20).vcpus(1)
 *         .boot(loader).pci(new PciAddress(0, 0, 0), "hostbridge", factory, "").build()) {
 *     vm.start();
 *     VmOutcome outcome = vm.await();
 * }
 * }</pre>
 */
public final class VmBuilder {
    /** The smallest guest jhyve will build: a loader needs room for its tables and a stack. */
    public static final long MIN_MEMORY = 1L << 20;
    /** Far more than KVM allows per VM on any host this runs on; also keeps sizes clear of overflow. */
    public static final long MAX_MEMORY = 1L << 46;
    public static final int MAX_VCPUS = 255;

    /** A PCI device to create at build time. */
    public record PciSlot(PciAddress address, String emulation, PciDeviceFactory factory, String options) {}

    private final Hypervisor hypervisor;
    private long memoryBytes = 256L << 20;
    private int vcpus = 1;
    private BootLoader boot;
    private final Map<PciAddress, PciSlot> pciSlots = new LinkedHashMap<>();
    private final List<PlatformDevice> platformDevices = new ArrayList<>();
    private boolean exitOnUnhandledIo;
    private Optional<UUID> uuid = Optional.empty();
    private Optional<TraceConfig> trace = Optional.empty();
    private Optional<SocketAddress> gdbAddress = Optional.empty();
    private Optional<CpuTemplate> cpuTemplate = Optional.empty();
    private Optional<CpuTopology> topology = Optional.empty();
    private boolean wiredMemory;
    private boolean gdbWaits = true;
    private InterruptPlatform interrupts = InterruptPlatform.IN_KERNEL;
    private boolean mmioCrossCheck;

    private VmBuilder(Hypervisor hypervisor) {
        this.hypervisor = Objects.requireNonNull(hypervisor, "hypervisor");
    }

    public static VmBuilder on(Hypervisor hypervisor) {
        return new VmBuilder(hypervisor);
    }

    /** Guest RAM in bytes: at least 1 MiB, a multiple of 4 KiB. */
    public VmBuilder memory(long bytes) {
        if (bytes < MIN_MEMORY) throw new IllegalArgumentException("guest memory must be at least 1 MiB");
        if (bytes > MAX_MEMORY) throw new IllegalArgumentException("guest memory of " + bytes + " bytes is too large");
        if ((bytes & 0xfff) != 0) throw new IllegalArgumentException("guest memory must be a multiple of 4 KiB");
        this.memoryBytes = bytes;
        return this;
    }

    /** {@code count} vCPUs in one package of that many cores (as {@link CpuTopology#onePackage}). */
    public VmBuilder vcpus(int count) {
        if (count < 1 || count > MAX_VCPUS) throw new IllegalArgumentException("vCPU count must be 1-" + MAX_VCPUS + ": " + count);
        this.vcpus = count;
        this.topology = Optional.empty();
        return this;
    }

    /** As many vCPUs as {@code topology} has, grouped as it says in the guest's CPUID (bhyve's {@code -c sockets=,cores=,threads=}). */
    public VmBuilder topology(CpuTopology topology) {
        vcpus(topology.vcpus());
        this.topology = Optional.of(topology);
        return this;
    }

    /**
     * Whether the vCPUs wait for gdb before their first instruction (the default, QEMU's {@code -s -S}, bhyve's
     * {@code -G w...}); with false they run from the start and stop when gdb attaches (bhyve's {@code -G PORT}).
     * Only with {@link #gdb(int)} or {@link #gdb(Path)}.
     */
    public VmBuilder gdbWaits(boolean waits) {
        this.gdbWaits = waits;
        return this;
    }

    /**
     * Guest RAM locked in host memory (mlock), never swapped: bhyve's {@code -S}. Needs RLIMIT_MEMLOCK (ulimit -l)
     * of at least the RAM's size or CAP_IPC_LOCK; otherwise {@link #build} fails with a HypervisorException.
     */
    public VmBuilder wiredMemory(boolean wired) {
        this.wiredMemory = wired;
        return this;
    }

    /**
     * Who emulates the local APICs, IOAPIC, PICs, PIT (and the RTC): {@link InterruptPlatform#IN_KERNEL}, the default,
     * leaves it to the hypervisor (KVM's in-kernel irqchip); {@link InterruptPlatform#USERSPACE} runs jhyve's own
     * ({@code --irqchip userspace}), as a hypervisor without one (Hypervisor.framework) needs.
     */
    public VmBuilder irqchip(InterruptPlatform platform) {
        this.interrupts = Objects.requireNonNull(platform, "interrupt platform");
        return this;
    }

    /**
     * Decodes every MMIO exit again with jhyve's own x86 instruction emulator (the one a hypervisor that reports only
     * the faulting address needs) and compares it with what the hypervisor decoded: address, length, direction and
     * data. Mismatches are logged as warnings and the totals when the VM ends ({@code --mmio-cross-check}). A
     * debugging aid for jhyve's emulator: it costs two register reads and a decode per MMIO exit. Off by default.
     */
    public VmBuilder mmioCrossCheck(boolean check) {
        this.mmioCrossCheck = check;
        return this;
    }

    public VmBuilder boot(BootLoader loader) {
        this.boot = Objects.requireNonNull(loader, "boot loader");
        return this;
    }

    /** Plugs a PCI device in at {@code address}; a second device at the same address is refused. */
    public VmBuilder pci(PciAddress address, String emulation, PciDeviceFactory factory, String options) {
        if (pciSlots.containsKey(address)) {
            throw new IllegalArgumentException("PCI slot " + address + " is used twice (" + pciSlots.get(address).emulation()
                    + " and " + emulation + ")");
        }
        pciSlots.put(address, new PciSlot(address, emulation, factory, options == null ? "" : options));
        return this;
    }

    /** Adds a non-PCI device, installed in the order added. */
    public VmBuilder platform(PlatformDevice device) {
        platformDevices.add(Objects.requireNonNull(device));
        return this;
    }

    /** bhyve's {@code -e}: an access to a port or address no device claims ends the VM with an error. */
    public VmBuilder exitOnUnhandledIo(boolean enabled) {
        this.exitOnUnhandledIo = enabled;
        return this;
    }

    /**
     * The VM's identity (xhyve's {@code -U}): devices derive what must stay the same across runs of this VM
     * from it, such as virtio-net's MAC address. Without it they derive it from their slot and options.
     */
    public VmBuilder uuid(UUID id) {
        this.uuid = Optional.of(Objects.requireNonNull(id, "uuid"));
        return this;
    }

    /**
     * Traces exits, device accesses, virtqueue chains and interrupts to a file, one line each (see
     * docs/debugging.md). The file is created when the VM is built and closed with it. Off by default.
     */
    public VmBuilder trace(TraceConfig config) {
        this.trace = Optional.of(Objects.requireNonNull(config, "trace config"));
        return this;
    }

    /**
     * A GDB remote stub on 127.0.0.1:{@code port} (xhyve's {@code -g}; 0 picks a free port, see
     * {@link VirtualMachine#gdbAddress()}). The vCPUs then start held before their first instruction until gdb
     * connects and continues them, as QEMU's {@code -s -S}. While gdb holds the vCPUs stopped,
     * {@link VirtualMachine#pause()} waits for gdb to let them run. Only connections from jhyve's own user are
     * served. See docs/debugging.md, "GDB".
     */
    public VmBuilder gdb(int port) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("gdb port must be 0-65535: " + port);
        this.gdbAddress = Optional.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return this;
    }

    /**
     * As {@link #gdb(int)}, on a Unix socket at {@code socket} (mode 0600; gdb's {@code target remote PATH}).
     * Something already at the path is replaced only when it is a socket nobody serves any more.
     */
    public VmBuilder gdb(Path socket) {
        this.gdbAddress = Optional.of(UnixDomainSocketAddress.of(Objects.requireNonNull(socket, "socket")));
        return this;
    }

    /**
     * What the guest's CPUID shows ({@code --cpu-template}): {@link CpuTemplate#HOST}, {@link CpuTemplate#PVM}.
     * Without it, the template for the hypervisor's host ({@link CpuTemplate#forHost}). Its kernel parameters
     * are the boot loader's to add: give a {@code KexecLoader} the same template ({@link #cpuTemplate()}).
     */
    public VmBuilder cpuTemplate(CpuTemplate template) {
        this.cpuTemplate = Optional.of(Objects.requireNonNull(template, "cpu template"));
        return this;
    }

    /** The template the VM will get: the one given, or the one for the hypervisor's host. */
    public CpuTemplate cpuTemplate() {
        return cpuTemplate.orElseGet(() -> CpuTemplate.forHost(hypervisor.hasHardwareVirtualization()));
    }

    public long memory() { return memoryBytes; }

    public int vcpus() { return vcpus; }

    public List<PciSlot> pciSlots() { return List.copyOf(pciSlots.values()); }

    /**
     * Creates the VM: guest RAM, buses, devices, the image in memory and the vCPUs. On failure everything
     * created so far is released and the exception propagates (DeviceConfigException, BootException,
     * HypervisorException; IllegalArgumentException when the trace file cannot be created or the gdb port or
     * socket cannot be listened on).
     */
    public VirtualMachine build() {
        return VirtualMachine.build(hypervisor, plan());
    }

    /** What this builder describes, as a value the VM is built from. */
    VmPlan plan() {
        if (boot == null) throw new IllegalStateException("no boot loader: say what the guest boots");
        return new VmPlan(memoryBytes, vcpus, boot, List.copyOf(pciSlots.values()), platformDevices, exitOnUnhandledIo,
                uuid, trace, gdbAddress, gdbWaits, cpuTemplate().cpuid(), topology.orElse(CpuTopology.onePackage(vcpus)), wiredMemory, interrupts, mmioCrossCheck);
    }
}

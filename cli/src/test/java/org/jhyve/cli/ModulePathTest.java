package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * jhyve as JPMS modules, as an embedder on the module path meets it (the other tests run on the class
 * path, where module boundaries do not apply): the command runs as module org.jhyve.cli with its JFR
 * events, vmm-core exports its API packages and nothing else, the POSIX layer is exported only to jhyve's
 * modules that make system calls, and code that reaches past the API does not compile.
 */
@Timeout(120)
class ModulePathTest {
    /** vmm-core's API: what docs/embedding.md and docs/debugging.md program against. */
    private static final Set<String> CORE_API = Set.of("org.jhyve.boot", "org.jhyve.bus", "org.jhyve.config", "org.jhyve.cpu", "org.jhyve.hv",
            "org.jhyve.irq", "org.jhyve.memory", "org.jhyve.pci", "org.jhyve.trace", "org.jhyve.vm");

    @TempDir
    Path dir;

    /**
     * The explicit modules on this test's class path: jhyve's own (jars or target/classes directories with a
     * module-info.class) and their dependencies'. Test classes and the test-jar have no descriptor and
     * stay out; the JUnit modules are there but never resolved, since nothing jhyve's requires them.
     */
    private static List<Path> modulePath() {
        List<Path> path = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            boolean explicit = Files.isDirectory(p) ? Files.exists(p.resolve("module-info.class"))
                    : ModuleFinder.of(p).findAll().stream().anyMatch(m -> !m.descriptor().isAutomatic());
            if (explicit) path.add(p);
        }
        return path;
    }

    private static String joined(List<Path> path) {
        return path.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
    }

    private static ModuleDescriptor module(String name) {
        return ModuleFinder.of(modulePath().toArray(Path[]::new)).find(name).map(ModuleReference::descriptor)
                .orElseThrow(() -> new AssertionError("module " + name + " is not on the test class path"));
    }

    @Test
    void coreExportsItsApiPackagesToAllAndJfrEventsOnlyToDevices() {
        ModuleDescriptor core = module("org.jhyve.core");
        Set<String> toAll = core.exports().stream().filter(e -> !e.isQualified()).map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toSet());
        Map<String, Set<String>> qualified = core.exports().stream().filter(ModuleDescriptor.Exports::isQualified)
                .collect(Collectors.toMap(ModuleDescriptor.Exports::source, ModuleDescriptor.Exports::targets));
        assertThat(toAll).isEqualTo(CORE_API);
        assertThat(qualified).isEqualTo(Map.of("org.jhyve.jfr", Set.of("org.jhyve.devices"),
                "org.jhyve.sockets", Set.of("org.jhyve.devices"))); // UnixSocketFile, for the unix: network backend
        assertThat(core.packages()).contains("org.jhyve.x86", "org.jhyve.gdb", "org.jhyve.vm.debug"); // there, but not exported
        assertThat(core.opens()).isEmpty();
        assertThat(core.requires()).extracting(ModuleDescriptor.Requires::name).noneMatch(n -> n.startsWith("org.jhyve."));
    }

    @Test
    void thePosixLayerIsExportedOnlyToJhyvesModulesThatCallLibc() {
        ModuleDescriptor posix = module("org.jhyve.posix");
        assertThat(posix.exports()).singleElement().satisfies(e -> {
            assertThat(e.source()).isEqualTo("org.jhyve.posix");
            assertThat(e.targets()).containsExactlyInAnyOrder("org.jhyve.kvm", "org.jhyve.devices");
        });
        assertThat(posix.opens()).isEmpty();
        assertThat(posix.requires()).extracting(ModuleDescriptor.Requires::name).containsExactly("java.base");
        assertThat(module("org.jhyve.kvm").requires()).extracting(ModuleDescriptor.Requires::name).contains("org.jhyve.posix");
        assertThat(module("org.jhyve.devices").requires()).extracting(ModuleDescriptor.Requires::name).contains("org.jhyve.posix");
        // Not transitive: an embedder requiring native-kvm or devices does not get it.
        assertThat(module("org.jhyve.kvm").requires()).filteredOn(r -> r.name().equals("org.jhyve.posix"))
                .allSatisfy(r -> assertThat(r.modifiers()).doesNotContain(ModuleDescriptor.Requires.Modifier.TRANSITIVE));
    }

    @Test
    void anEmbedderCannotCompileAgainstThePosixLayer() throws IOException {
        Path src = exampleModule("requires org.jhyve.kvm; requires org.jhyve.posix;");
        Files.writeString(src.resolve("example/Calls.java"), """
                package example;
                final class Calls { int fd() throws Exception { return org.jhyve.posix.Posix.open("/dev/null", 0); } }
                """);
        assertThat(compile(src)).contains("package org.jhyve.posix is not visible")
                .contains("does not export it to module example");
    }

    @Test
    void aCustomDeviceCompilesAgainstTheApiButNotAgainstTheInsides() throws IOException {
        Path src = exampleModule("requires org.jhyve.core;");
        // The shape of docs/examples' CounterDevice: a PCI function with a memory BAR.
        Files.writeString(src.resolve("example/Device.java"), """
                package example;
                import org.jhyve.bus.BusDevice;
                import org.jhyve.pci.PciBar;
                import org.jhyve.pci.PciFunction;
                public final class Device extends PciFunction {
                    public Device() {
                        super("example", 0x1234, 0x0001, 0xff0000, 1);
                        addBar(new PciBar(0, PciBar.Kind.MEMORY32, 4096, false, new BusDevice() {
                            @Override public long read(long offset, int size) { return 0; }
                            @Override public void write(long offset, int size, long value) { }
                        }));
                    }
                }
                """);
        assertThat(compile(src)).as("the API compiles").isEmpty();

        Files.writeString(src.resolve("example/Insides.java"), """
                package example;
                final class Insides { org.jhyve.x86.InstructionDecoder decoder; }
                """);
        assertThat(compile(src)).contains("package org.jhyve.x86 is not visible")
                .contains("declared in module org.jhyve.core, which does not export it");
    }

    /** The sources of a module {@code example} with package {@code example} and {@code directives} in its module-info. */
    private Path exampleModule(String directives) throws IOException {
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("example"));
        Files.writeString(src.resolve("module-info.java"), "module example { " + directives + " }\n");
        return src;
    }

    /** Compiles every source under {@code src} as one module; returns javac's diagnostics (empty when clean). */
    private String compile(Path src) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> args = new ArrayList<>(List.of("-d", dir.resolve("out").toString(), "--module-path", joined(modulePath()),
                // In-process javac would otherwise take this JVM's class path, where vmm-core's test classes
                // put org.jhyve.x86 in the unnamed module too: only the module path is what an embedder has.
                "--class-path", Files.createDirectories(dir.resolve("empty")).toString()));
        try (var files = Files.walk(src)) {
            files.filter(f -> f.toString().endsWith(".java")).forEach(f -> args.add(f.toString()));
        }
        var diagnostics = new java.io.ByteArrayOutputStream();
        int status = javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new));
        String text = diagnostics.toString(StandardCharsets.UTF_8);
        return status == 0 ? text : "exit " + status + ": " + text;
    }

    @Test
    void theCommandRunsAsModulesWithNativeAccessForItsOwnModulesOnlyAndRecordsJfrEvents() throws Exception {
        // org.jhyve.posix makes every libc call; org.jhyve.kvm sizes the memory KVM maps (reinterpret). devices
        // calls libc only through posix, so it needs no native access of its own.
        GuestImages.assumeKvm();
        Path program = GuestImages.extract(dir, "hello-long.elf");
        Path recording = dir.resolve("run.jfr");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=org.jhyve.posix,org.jhyve.kvm",
                "-Xlog:jfr+startup=off", "-XX:StartFlightRecording:filename=" + recording,
                "--module-path", joined(modulePath()), "--module", "org.jhyve.cli/org.jhyve.cli.Main",
                "-m", "64M", "-s", "0:0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + program);
        Process p = new ProcessBuilder(command).redirectInput(new File("/dev/null")).redirectError(dir.resolve("err").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("jhyve exits").isTrue();
        String err = Files.readString(dir.resolve("err"));

        assertThat(out).isEqualTo("Hello from 64-bit long mode\r\nhostbridge vendor=1275 device=1275\r\nlong mode: EFER.LMA=1\r\n");
        assertThat(p.exitValue()).as(err).isEqualTo(1);
        // A restricted call from a module without native access would warn here (and fail in later JDKs).
        assertThat(err).doesNotContain("WARNING");
        List<RecordedEvent> exits = RecordingFile.readAllEvents(recording).stream()
                .filter(e -> e.getEventType().getName().equals("jhyve.VmExit")).toList();
        // One exit per character on COM1's transmit register, and one for the baud-rate divisor.
        assertThat(exits).as("jhyve.VmExit events from the module's vCPU loop")
                .filteredOn(e -> e.getString("reason").equals("pio") && e.getLong("address") == 0x3f8 && e.getBoolean("write"))
                .hasSize(out.length() + 1);
    }
}

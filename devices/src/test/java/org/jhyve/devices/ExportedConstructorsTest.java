package org.jhyve.devices;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Constructor;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The devices module's exported classes can be constructed with what the module exports: no public or
 * protected constructor takes a type from one of its packages that are not exported (the block and network
 * back ends, the logs), which an embedder could not name. Devices over such back ends are built by their
 * factories.
 */
class ExportedConstructorsTest {
    @Test
    void noExportedConstructorTakesAnUnexportedType() throws Exception {
        Path classes = Path.of(DeviceCatalog.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor module;
        try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
            module = ModuleDescriptor.read(in);
        }
        Set<String> exported = module.exports().stream().filter(e -> !e.isQualified()).map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toSet());
        assertThat(exported).contains("org.jhyve.devices.virtio");
        List<String> leaks = new ArrayList<>();
        for (Class<?> type : classesIn(classes, exported)) {
            if (!Modifier.isPublic(type.getModifiers())) continue;
            for (Constructor<?> c : type.getDeclaredConstructors()) {
                if (!Modifier.isPublic(c.getModifiers()) && !Modifier.isProtected(c.getModifiers())) continue;
                for (Class<?> parameter : classesNamedBy(c.getGenericParameterTypes())) {
                    String pkg = parameter.getPackageName();
                    // The module's own packages (module-info.class as javac writes it lists only the exported ones).
                    boolean own = pkg.equals(module.name()) || pkg.startsWith(module.name() + ".");
                    if (own && !exported.contains(pkg)) leaks.add(c + " takes " + parameter.getName());
                }
            }
        }
        assertThat(leaks).isEmpty();
    }

    /** The classes a signature names, type arguments and array elements too ({@code List<NetBackend>} names NetBackend). */
    private static List<Class<?>> classesNamedBy(Type... types) {
        List<Class<?>> named = new ArrayList<>();
        for (Type t : types) {
            switch (t) {
                case Class<?> c when c.isArray() -> named.addAll(classesNamedBy(c.getComponentType()));
                case Class<?> c -> named.add(c);
                case ParameterizedType p -> {
                    named.addAll(classesNamedBy(p.getRawType()));
                    named.addAll(classesNamedBy(p.getActualTypeArguments()));
                }
                case GenericArrayType a -> named.addAll(classesNamedBy(a.getGenericComponentType()));
                case WildcardType w -> {
                    named.addAll(classesNamedBy(w.getUpperBounds()));
                    named.addAll(classesNamedBy(w.getLowerBounds()));
                }
                default -> { } // a type variable: its bounds are the class's, checked where declared
            }
        }
        return named;
    }

    private static List<Class<?>> classesIn(Path classes, Set<String> packages) throws IOException, ClassNotFoundException {
        List<Class<?>> found = new ArrayList<>();
        for (String pkg : packages) {
            Path dir = classes.resolve(pkg.replace('.', '/'));
            List<Path> files;
            try (Stream<Path> list = Files.list(dir)) {
                files = list.filter(f -> f.toString().endsWith(".class")).toList();
            }
            for (Path f : files) {
                String simple = f.getFileName().toString().replace(".class", "");
                found.add(Class.forName(pkg + "." + simple, false, ExportedConstructorsTest.class.getClassLoader()));
            }
        }
        return found;
    }
}

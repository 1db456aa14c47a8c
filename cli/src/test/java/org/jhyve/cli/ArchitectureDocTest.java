package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/architecture.md's two tables, held to the code: every package of every module's main sources is in the
 * package table under its module and nothing else is; the exports table gives each module's JPMS name and
 * exactly the packages its module-info.java exports, qualified exports with their targets. A package added,
 * moved or exported without the doc saying so fails here.
 */
class ArchitectureDocTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final List<String> MODULES = List.of("posix", "vmm-core", "native-kvm", "native-hvf", "devices", "firmware", "cli");
    private static final Pattern TICKED = Pattern.compile("`([^`]+)`");
    private static final Pattern EXPORTS = Pattern.compile("exports\\s+([\\w.]+)(?:\\s+to\\s+([\\w.,\\s]+))?;");
    private static final Pattern MODULE_NAME = Pattern.compile("module\\s+([\\w.]+)\\s*\\{");

    @Test
    void thePackageTableListsEveryPackageOfEveryModuleAndNoOther() throws IOException {
        Map<String, Set<String>> documented = new TreeMap<>();
        for (List<String> row : table("| module | package | what it holds |")) {
            documented.computeIfAbsent(row.get(0), m -> new TreeSet<>()).add(ticked(row.get(1)).getFirst());
        }
        Map<String, Set<String>> inTree = new TreeMap<>();
        for (String module : MODULES) inTree.put(module, packages(module));
        assertThat(documented).isEqualTo(inTree);
    }

    @Test
    void theExportsTableSaysWhatEachModuleInfoExports() throws IOException {
        Map<String, List<String>> rows = new LinkedHashMap<>();
        for (List<String> row : table("| module | JPMS name | exports |")) rows.put(row.get(0), row);
        assertThat(rows.keySet()).containsExactlyInAnyOrderElementsOf(MODULES);
        for (String module : MODULES) {
            String info = Files.readString(ROOT.resolve(module).resolve("src/main/java/module-info.java"));
            Matcher name = MODULE_NAME.matcher(info);
            assertThat(name.find()).as(module + "'s module-info").isTrue();
            List<String> row = rows.get(module);
            assertThat(ticked(row.get(1))).as(module + "'s JPMS name").containsExactly(name.group(1));

            String cell = row.get(2);
            Set<String> packages = packages(module);
            Set<String> exported = new TreeSet<>();
            Matcher e = EXPORTS.matcher(info);
            while (e.find()) {
                exported.add(e.group(1));
                if (e.group(2) != null) {
                    // "`P` to `A`, `B`": the targets follow the package in its part of the cell.
                    String part = partAfter(cell, "`" + e.group(1) + "` to ");
                    for (String target : e.group(2).split(",")) {
                        assertThat(ticked(part)).as("%s exports %s to %s", module, e.group(1), target.strip()).contains(target.strip());
                    }
                }
            }
            Set<String> saidExported = new TreeSet<>(ticked(cell));
            saidExported.retainAll(packages);
            // A package named after "not exported" or "nothing" would be a lie the table tells: none is named so.
            assertThat(saidExported).as(module + "'s exports").isEqualTo(exported);
        }
    }

    /** The rows of the markdown table whose header line is {@code header}, as trimmed cells. */
    private static List<List<String>> table(String header) throws IOException {
        List<String> lines = Files.readAllLines(ROOT.resolve("docs/architecture.md"));
        int at = lines.indexOf(header);
        assertThat(at).as("docs/architecture.md has a table headed " + header).isNotNegative();
        return lines.subList(at + 2, lines.size()).stream()
                .takeWhile(l -> l.startsWith("|"))
                .map(l -> Stream.of(l.substring(1, l.length() - 1).split("\\|", -1)).map(String::strip).toList())
                .toList();
    }

    private static List<String> ticked(String text) {
        return TICKED.matcher(text).results().map(r -> r.group(1)).toList();
    }

    /** The part of {@code cell} from {@code marker} to the next ';' or the end. */
    private static String partAfter(String cell, String marker) {
        int at = cell.indexOf(marker);
        assertThat(at).as("'%s' in '%s'", marker, cell).isNotNegative();
        int end = cell.indexOf(';', at);
        return cell.substring(at + marker.length(), end < 0 ? cell.length() : end);
    }

    /** The packages of {@code module}'s main sources (src/main/java, and the templates Maven turns into sources). */
    private static Set<String> packages(String module) throws IOException {
        Set<String> packages = new TreeSet<>();
        for (String dir : List.of("src/main/java", "src/main/java-templates")) {
            Path sources = ROOT.resolve(module).resolve(dir);
            if (!Files.isDirectory(sources)) continue;
            try (Stream<Path> files = Files.walk(sources)) {
                files.filter(f -> f.toString().endsWith(".java") && !f.getFileName().toString().equals("module-info.java"))
                        .map(f -> sources.relativize(f.getParent()).toString().replace('/', '.'))
                        .forEach(packages::add);
            }
        }
        return packages;
    }
}

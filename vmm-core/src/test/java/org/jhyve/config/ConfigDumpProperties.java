package org.jhyve.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** A dump read back with {@link ConfigFile} is the same tree: what makes {@code -k} of a dump the same VM. */
class ConfigDumpProperties {
    @Property(tries = 500)
    void aDumpReadsBackAsTheSameTree(@ForAll("trees") Map<String, String> values) {
        ConfigTree tree = ConfigTree.of(values, "test");
        ConfigTree.Builder back = ConfigTree.builder();
        ConfigFile.parse("dump", tree.dump(), back);
        assertThat(back.build().values()).isEqualTo(tree.values());
    }

    @Provide
    Arbitrary<Map<String, String>> trees() {
        // Keys one to four names deep, each name a letter then letters, digits, '-' or '_' (leaves only: a key with
        // a value never prefixes another, since the last name always starts with "k"). Values: any one line,
        // '=', '#', spaces at either end and NUL among them.
        Arbitrary<String> name = Arbitraries.strings().withCharRange('a', 'z').withChars("0123456789-_").ofMinLength(1).ofMaxLength(6);
        Arbitrary<String> key = name.list().ofMinSize(0).ofMaxSize(3)
                .flatMap(path -> name.map(last -> String.join(".", path) + (path.isEmpty() ? "" : ".") + "k" + last));
        Arbitrary<String> value = Arbitraries.strings().all().ofMaxLength(20).filter(ConfigKeys::isValue)
                .injectDuplicates(0.1).edgeCases(e -> e.add("=").add("#").add(" a=b # c ").add(""));
        return Arbitraries.maps(key, value).ofMaxSize(12).filter(ConfigDumpProperties::leavesOnly);
    }

    /** Drops maps where a key is a prefix node of another ("ka" and "ka.kb"): not a tree. */
    private static boolean leavesOnly(Map<String, String> values) {
        return values.keySet().stream().noneMatch(k -> values.keySet().stream().anyMatch(o -> o.startsWith(k + ".")));
    }
}

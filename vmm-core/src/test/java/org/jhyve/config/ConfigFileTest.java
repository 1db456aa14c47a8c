package org.jhyve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigFileTest {
    private static ConfigTree read(String text) {
        ConfigTree.Builder b = ConfigTree.builder();
        ConfigFile.parse("vm.conf", text, b);
        return b.build();
    }

    @Test
    void linesCommentsAndBlanks() {
        ConfigTree t = read("# a VM\n\n   # indented comment\ncpus=2\n  memory.size=1G\r\njhyve.kexec.cmdline=a=b #c \n");
        assertThat(t.values()).isEqualTo(Map.of("cpus", "2", "memory.size", "1G", "jhyve.kexec.cmdline", "a=b #c "));
        assertThat(t.origin("memory.size")).contains("vm.conf:5: memory.size=1G");
    }

    @Test
    void aBadLineIsNamedByFileAndLine() {
        assertThatThrownBy(() -> read("cpus=2\nmemory.size 1G\n")).isInstanceOf(ConfigException.class)
                .hasMessage("vm.conf:2: expected key=value (a key is names of letters, digits, _ and -, separated by dots), not 'memory.size 1G'");
        assertThatThrownBy(() -> read("cpus = 2")).hasMessageStartingWith("vm.conf:1: expected key=value");
        assertThatThrownBy(() -> read("=2")).hasMessageStartingWith("vm.conf:1: expected key=value");
        assertThatThrownBy(() -> read("a.b=1\na=2")).isInstanceOf(ConfigException.class)
                .hasMessage("vm.conf:2: a has keys under it (a.b), so it has no value of its own");
    }

    @Test
    void theLastValueForAKeyWins() {
        assertThat(read("cpus=1\ncpus=4\n").values()).isEqualTo(Map.of("cpus", "4"));
    }
}

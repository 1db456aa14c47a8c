package org.jhyve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTreeTest {
    private static ConfigTree tree(String... keyValues) {
        ConfigTree.Builder b = ConfigTree.builder();
        for (int i = 0; i < keyValues.length; i += 2) b.set(keyValues[i], keyValues[i + 1], "test " + i / 2);
        return b.build();
    }

    @Test
    void aNodeSeesOnlyTheKeysUnderIt() {
        // A prefix match on the string would give pci.0.2.0 the keys of pci.0.2.01 and pci.0.20.
        ConfigTree t = tree("pci.0.2.0.device", "virtio-net", "pci.0.2.0.mac", "02:00:00:00:00:01",
                "pci.0.20.0.device", "hostbridge", "pci.0.2.01.device", "lpc", "memory.size", "1G");
        ConfigNode slot = t.node("pci.0.2.0");
        assertThat(slot.childNames()).containsExactly("device", "mac");
        assertThat(slot.get("mac")).contains("02:00:00:00:00:01");
        assertThat(slot.key("mac")).isEqualTo("pci.0.2.0.mac");
        assertThat(t.node("pci.0").childNames()).containsExactly("2", "20");
        assertThat(t.root().childNames()).containsExactly("memory", "pci");
        assertThat(t.node("pci.0.3.0").isEmpty()).isTrue();
        assertThat(t.root().has("pci.0.2")).isTrue();
        assertThat(t.root().has("pci.0.3")).isFalse();
    }

    @Test
    void unreadKeysAreTheUnknownOnes() {
        ConfigTree t = tree("cpus", "2", "pci.0.2.0.device", "virtio-net", "pci.0.2.0.speed", "10");
        assertThat(t.unread()).containsExactly("cpus", "pci.0.2.0.device", "pci.0.2.0.speed");
        t.root().get("cpus");
        t.node("pci.0.2.0").get("device");
        t.root().has("pci.0.2.0.speed"); // looking is not reading
        assertThat(t.unread()).containsExactly("pci.0.2.0.speed");
        t.markRead("pci.0.2.0.speed");
        assertThat(t.unread()).isEmpty();
    }

    @Test
    void laterValuesWinAndKeepTheirOrigin() {
        ConfigTree t = ConfigTree.builder().set("memory.size", "1G", "-m 1G").set("memory.size", "2G", "-o memory.size=2G").build();
        assertThat(t.values()).isEqualTo(Map.of("memory.size", "2G"));
        assertThat(t.origin("memory.size")).contains("-o memory.size=2G");
    }

    @Test
    void onlyLeavesHaveValues() {
        // bhyve's tree: a node is either a value or keys under it. Both would make a dump that reads back differently.
        ConfigTree.Builder b = ConfigTree.builder().set("pci.0.2.0.device", "virtio-net", "-s 2,virtio-net");
        assertThatThrownBy(() -> b.set("pci.0.2.0", "x", "-o pci.0.2.0=x")).isInstanceOf(ConfigException.class)
                .hasMessage("pci.0.2.0 has keys under it (pci.0.2.0.device), so it has no value of its own");
        assertThatThrownBy(() -> b.set("pci.0.2.0.device.x", "y", "-o")).isInstanceOf(ConfigException.class)
                .hasMessage("pci.0.2.0.device has a value (-s 2,virtio-net), so it has no keys under it")
                .extracting(e -> ((ConfigException) e).key()).isEqualTo("pci.0.2.0.device.x");
    }

    @Test
    void keysAreDottedNamesAndValuesOneLine() {
        for (String bad : new String[] {"", ".", "a.", ".a", "a..b", "a b", "a=b", "#a", "a\0"}) {
            assertThatThrownBy(() -> ConfigTree.builder().set(bad, "v", "t")).as(bad).isInstanceOf(ConfigException.class)
                    .hasMessageEndingWith("is not a configuration key (names of letters, digits, _ and -, separated by dots)");
        }
        assertThatThrownBy(() -> ConfigTree.builder().set("name", "a\nb", "t")).hasMessage("name: a configuration value is one line");
        assertThat(tree("x86.mptable", "", "pci.0.2.0.num-queues", "4", "a_b", " =#\0").values()).hasSize(3);
    }

    @Test
    void booleansAsBhyveReadsThem() {
        ConfigTree t = tree("a", "TRUE", "b", "off", "c", "1", "d", "yes", "e", "maybe");
        ConfigNode root = t.root();
        assertThat(root.bool("a", false)).isTrue();
        assertThat(root.bool("b", true)).isFalse();
        assertThat(root.bool("c", false)).isTrue();
        assertThat(root.bool("d", false)).isTrue();
        assertThat(root.bool("unset", true)).isTrue();
        assertThatThrownBy(() -> root.child("e").tree().root().bool("e", false)).isInstanceOf(ConfigException.class)
                .hasMessage("e=maybe is not a boolean (true or false)");
    }

    @Test
    void equalityIsTheValuesNotTheOrigins() {
        ConfigTree a = ConfigTree.builder().set("cpus", "2", "-c 2").build();
        ConfigTree b = ConfigTree.builder().set("cpus", "2", "vm.conf:1: cpus=2").build();
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(tree("cpus", "3"));
        assertThat(tree("cpus", "2", "config.dump", "1").without("config.dump")).isEqualTo(a);
    }

    @Test
    void theDumpIsSortedKeyValueLines() {
        assertThat(tree("name", "vm1", "cpus", "2", "jhyve.kexec.cmdline", "console=ttyS0 a=b # not a comment").dump())
                .isEqualTo("cpus=2\njhyve.kexec.cmdline=console=ttyS0 a=b # not a comment\nname=vm1\n");
        assertThat(tree().dump()).isEmpty();
    }
}

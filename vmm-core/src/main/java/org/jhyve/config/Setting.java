package org.jhyve.config;

import java.util.Objects;

/**
 * One key's value and where it came from: {@code origin} is what the user typed or where, as error lines begin
 * with it ("-s 2,virtio-net,tap0", "-o memory.size=1G", "vm.conf:3: memory.size=1G"). Origins are for messages
 * only: two trees with the same values are equal whatever their origins.
 */
public record Setting(String value, String origin) {
    public Setting {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(origin, "origin");
    }
}

package org.jhyve.cli;

import org.jhyve.config.ConfigNode;
import org.jhyve.config.ConfigTree;

/**
 * bhyve's keys for what jhyve cannot do yet (from their flags or from -o), refused rather than ignored when they
 * ask for it; their harmless values are read, so they are not unknown keys either.
 */
final class UnsupportedKeys {
    private UnsupportedKeys() {}

    static void refuse(ConfigTree tree) throws UsageException {
        ConfigNode root = tree.root();
        if (root.bool("x86.x2apic", false)) throw notYet(tree, "x86.x2apic", "x2APIC mode is");
        if (root.bool("memory.guest_in_core", false)) {
            throw notYet(tree, "memory.guest_in_core", "guest memory in core files (the JVM's core dump excludes nothing it maps) is");
        }
        if (!root.bool("rtc.use_localtime", true)) throw notYet(tree, "rtc.use_localtime", "the RTC is");
        if (!root.bool("x86.strictmsr", true)) {
            throw notYet(tree, "x86.strictmsr", "ignoring unimplemented MSRs (KVM decides MSR access in the kernel) is");
        }
        if (!root.bool("virtio_msix", true)) {
            throw notYet(tree, "virtio_msix", "single-vector MSI for virtio (its devices use MSI-X or INTx) is");
        }
        if (tree.value("keyboard.layout").isPresent()) {
            throw new UsageException(KeyErrors.origin(tree, "keyboard.layout"), "there is no PS/2 keyboard to give a layout");
        }
    }

    private static UsageException notYet(ConfigTree tree, String key, String what) {
        return new UsageException(KeyErrors.origin(tree, key), what + " not supported yet");
    }
}

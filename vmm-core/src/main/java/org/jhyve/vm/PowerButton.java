package org.jhyve.vm;

/** The machine's power button, as a platform device (ACPI's fixed power button) provides it. */
@FunctionalInterface
public interface PowerButton {
    /**
     * Presses the button. Returns true if the guest listens for it (its ACPI driver enabled the event),
     * so it will shut itself down; false if nothing in the guest will notice.
     */
    boolean press();
}

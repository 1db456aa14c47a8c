package org.jhyve.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * An interrupt a device raised: an IOAPIC/PIC line driven, or an MSI sent. An instant event (no
 * duration). Stack traces are on: they show which device and thread raised it.
 */
@Name("jhyve.Interrupt")
@Label("Interrupt")
@Category("jhyve")
@Description("A device drove an interrupt line or sent a message-signalled interrupt")
public final class InterruptEvent extends Event {
    @Label("Kind")
    @Description("line or msi")
    String kind;

    @Label("GSI")
    @Description("The IOAPIC input for a line; -1 for an MSI")
    int gsi;

    @Label("Asserted")
    @Description("The level driven on a line (true for an MSI)")
    boolean asserted;

    @Label("MSI Address")
    @MemoryAddress
    long msiAddress;

    @Label("MSI Data")
    int msiData;

    /** Records line {@code gsi} driven to {@code level}, if a recording wants it. */
    public static void line(int gsi, boolean level) {
        InterruptEvent e = new InterruptEvent();
        if (!e.shouldCommit()) return;
        e.kind = "line";
        e.gsi = gsi;
        e.asserted = level;
        e.commit();
    }

    /** Records an MSI, if a recording wants it. */
    public static void msi(long address, int data) {
        InterruptEvent e = new InterruptEvent();
        if (!e.shouldCommit()) return;
        e.kind = "msi";
        e.gsi = -1;
        e.asserted = true;
        e.msiAddress = address;
        e.msiData = data;
        e.commit();
    }
}

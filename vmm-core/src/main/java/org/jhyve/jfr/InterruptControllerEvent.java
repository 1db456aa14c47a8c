package org.jhyve.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * What jhyve's userspace interrupt platform did: an interrupt injected, a vCPU halted or woken or started, an EOI,
 * a timer armed or fired. With {@link InterruptEvent} (the device's side) it shows why an interrupt did or did not
 * arrive. Instant; no stack trace (the thread says enough: a vCPU's, the timer thread, a device's).
 */
@Name("jhyve.InterruptController")
@Label("Interrupt Controller")
@Category("jhyve")
@Description("The userspace interrupt platform injected an interrupt, parked or woke a vCPU, took an EOI, or armed or fired a timer")
@StackTrace(false)
public final class InterruptControllerEvent extends Event {
    @Label("Event")
    @Description("inject, nmi, halt, wake, startup, eoi, timer-armed, timer-fired")
    String event;

    @Label("vCPU")
    @Description("-1 when no vCPU is concerned")
    int vcpu;

    @Label("Vector")
    @Description("-1 when there is none")
    int vector;

    @Label("Detail")
    String detail;

    /** Records one, if a recording wants it. */
    public static void record(String event, int vcpu, int vector, String detail) {
        InterruptControllerEvent e = new InterruptControllerEvent();
        if (!e.shouldCommit()) return;
        e.event = event;
        e.vcpu = vcpu;
        e.vector = vector;
        e.detail = detail;
        e.commit();
    }
}

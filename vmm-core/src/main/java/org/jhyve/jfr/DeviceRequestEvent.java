package org.jhyve.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * One request a device served (a virtio-blk read, write, flush...), timed from taking it to completing it.
 * Begin it when the request is taken and call {@link #complete} once it is done.
 */
@Name("jhyve.DeviceRequest")
@Label("Device Request")
@Category("jhyve")
@Description("A request served by a device model; the duration is its latency in jhyve")
@StackTrace(false)
public final class DeviceRequestEvent extends Event {
    @Label("Device")
    String device;

    @Label("Request")
    @Description("read, write, flush, discard, write-zeroes, get-id, unsupported, bad")
    String request;

    @Label("Bytes")
    @Description("Data bytes moved (0 for requests without data)")
    @DataAmount
    long bytes;

    @Label("Status")
    @Description("ok, ioerr or unsupp")
    String status;

    /** Ends the event and commits it if a recording wants it. */
    public void complete(String deviceName, String requestName, long dataBytes, String statusName) {
        end(); // shouldCommit() compares the duration with the threshold; without end() it is 0
        if (!shouldCommit()) return;
        device = deviceName;
        request = requestName;
        bytes = dataBytes;
        status = statusName;
        commit();
    }
}

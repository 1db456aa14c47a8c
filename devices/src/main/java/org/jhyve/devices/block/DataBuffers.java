package org.jhyve.devices.block;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Where a read or write request's data lives in guest memory, mapped only once the request has passed its
 * checks: mapping may fail on the guest's account (an AHCI PRD table that describes too few bytes throws its
 * own fault), and a request refused for its range must end as refused, not as that fault.
 *
 * <p>Called once, on the thread executing the request.
 */
@FunctionalInterface
public interface DataBuffers {
    /** Views of the guest's memory holding {@code bytes} bytes, in transfer order. */
    List<MemorySegment> segments(long bytes);
}

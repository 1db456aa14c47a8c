package org.jhyve.devices.virtio;

/**
 * What a virtio-net device has moved since it was created: frames delivered to the guest and sent for it,
 * frames cut on receive (longer than the guest's buffers) and dropped on transmit (malformed, offloads not
 * negotiated, or the backend refused them); receive buffers returned unused (no room for the header), control
 * commands refused, and failures of the host side (the backend's calls that failed, receive and transmit).
 */
public record VirtioNetCounters(long received, long sent, long receivedCut, long transmitDropped,
                                long receiveBuffersRefused, long controlRefused, long backendErrors) {
    /** Frames only: everything else 0. */
    public VirtioNetCounters(long received, long sent, long receivedCut, long transmitDropped) {
        this(received, sent, receivedCut, transmitDropped, 0, 0, 0);
    }

    @Override
    public String toString() {
        return received + " frames received, " + sent + " sent; " + receivedCut + " cut on receive, " + transmitDropped + " dropped on transmit; "
                + receiveBuffersRefused + " receive buffers refused, " + controlRefused + " control commands refused, " + backendErrors + " backend errors";
    }
}

package org.jhyve.devices.virtio;

/**
 * What a virtio-net device has moved since it was created: frames delivered to the guest and sent for it,
 * frames cut on receive (longer than the guest's buffers) and dropped on transmit (malformed or too long).
 */
public record VirtioNetCounters(long received, long sent, long receivedCut, long transmitDropped) {
    @Override
    public String toString() {
        return received + " frames received, " + sent + " sent; " + receivedCut + " cut on receive, " + transmitDropped + " dropped on transmit";
    }
}

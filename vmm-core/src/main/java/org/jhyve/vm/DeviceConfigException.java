package org.jhyve.vm;

/** A device's configuration is wrong (bad option, missing file...). The message is one line for the user. */
public final class DeviceConfigException extends RuntimeException {
    public DeviceConfigException(String message) {
        super(message);
    }

    public DeviceConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}

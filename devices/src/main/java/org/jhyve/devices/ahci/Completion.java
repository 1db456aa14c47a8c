package org.jhyve.devices.ahci;

/** How a device finished one command: its protocol, its ending task file, and the bytes it moved. */
record Completion(Protocol protocol, TaskFile taskFile, long transferred) {
    static Completion nonData(TaskFile taskFile) {
        return new Completion(Protocol.NON_DATA, taskFile, 0);
    }

    boolean failed() {
        return taskFile.isError();
    }
}

package org.jhyve.cli;

/** Bad command-line input: {@code flag} is what the user typed for it (e.g. "-s 2:9,hostbridge"). */
final class UsageException extends Exception {
    UsageException(String flag, String message) {
        super(flag + ": " + message);
    }

    /** A line that already says where: a -k file's "FILE:LINE: ...". */
    UsageException(String line) {
        super(line);
    }
}

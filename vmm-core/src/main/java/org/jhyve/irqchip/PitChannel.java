package org.jhyve.irqchip;

/**
 * One counter of the 8254: its mode, access mode, count, latches and gate. Time is the PIT's input clock in ticks
 * ({@link PitClock}); the counter's value and OUT are computed from the ticks elapsed since the count was loaded,
 * never by decrementing, so reading them costs nothing and nothing runs while the guest does not look.
 *
 * <p>BCD counting is not modelled: the BCD bit is kept (the status byte shows it) but the count counts in binary.
 *
 * <p>Threading rules: none of its own; {@link Pit8254} calls it with its lock held.
 */
final class PitChannel {
    static final int ACCESS_LATCH = 0;
    static final int ACCESS_LSB = 1;
    static final int ACCESS_MSB = 2;
    static final int ACCESS_WORD = 3;

    private int modeBits; // as written (6 and 7 kept for the status byte)
    private int accessMode = ACCESS_WORD;
    private boolean bcd;
    private boolean gate;

    /** The count register as last written (0 = 65536). */
    private int countRegister;
    private boolean loaded;
    private boolean nullCount = true;
    private long startTick;
    private boolean running;
    /** Ticks counted when counting stopped (gate low), or -1 while waiting for a gate trigger (modes 1, 5). */
    private long frozenElapsed = -1;

    private boolean writeMsbNext;
    private int pendingLsb;
    private boolean readMsbNext;
    private int latchedCount = -1;
    private boolean latchedMsbNext;
    private int latchedStatus = -1;

    PitChannel(boolean gate) {
        this.gate = gate;
    }

    /** The counting mode, 6 and 7 being 2 and 3. */
    int mode() {
        return modeBits >= 6 ? modeBits - 4 : modeBits;
    }

    boolean loaded() {
        return loaded;
    }

    /** The count the counter reloads: 1-65536. */
    int period() {
        return countRegister == 0 ? 0x10000 : countRegister;
    }

    long startTick() {
        return startTick;
    }

    boolean running() {
        return running;
    }

    /** A control word for this channel (access mode 1-3): the counter stops until a count is written. */
    void program(int accessMode, int modeBits, boolean bcd) {
        this.accessMode = accessMode;
        this.modeBits = modeBits & 7;
        this.bcd = bcd;
        loaded = false;
        running = false;
        frozenElapsed = -1;
        nullCount = true;
        writeMsbNext = false;
        readMsbNext = false;
        latchedCount = -1;
        latchedStatus = -1;
    }

    /** A byte written to the counter's port; returns true when it completed a count (the counter restarted). */
    boolean writeCount(int value, long now) {
        int b = value & 0xFF;
        switch (accessMode) {
            case ACCESS_LSB -> countRegister = b;
            case ACCESS_MSB -> countRegister = b << 8;
            default -> {
                if (!writeMsbNext) {
                    pendingLsb = b;
                    writeMsbNext = true;
                    return false;
                }
                writeMsbNext = false;
                countRegister = pendingLsb | b << 8;
            }
        }
        load(now);
        return true;
    }

    private void load(long now) {
        loaded = true;
        nullCount = false;
        int mode = mode();
        if (mode == 1 || mode == 5) {
            running = false; // waits for a rising gate
            frozenElapsed = -1;
        } else if (gate) {
            running = true;
            startTick = now;
        } else {
            running = false;
            frozenElapsed = 0;
        }
    }

    /** The gate input; returns true when it changed whether or from where the counter counts. */
    boolean setGate(boolean level, long now) {
        if (level == gate) return false;
        gate = level;
        if (!loaded) return false;
        int mode = mode();
        if (!level) {
            if (mode == 1 || mode == 5 || !running) return false;
            frozenElapsed = now - startTick;
            running = false;
            return true;
        }
        if (mode == 0 || mode == 4) {
            if (running || frozenElapsed < 0) return false;
            startTick = now - frozenElapsed; // resumes where it paused
        } else {
            startTick = now; // modes 1, 5 trigger; modes 2, 3 reload
        }
        running = true;
        return true;
    }

    /** Ticks counted since the count was loaded, or -1 when counting has not begun. */
    private long elapsed(long now) {
        if (!loaded) return -1;
        return running ? now - startTick : frozenElapsed;
    }

    /** The counting element's value now, 16 bits. */
    int value(long now) {
        long e = elapsed(now);
        if (e < 0) return countRegister & 0xFFFF;
        long n = period();
        return (int) switch (mode()) {
            case 2 -> n - e % n;
            case 3 -> n - (2 * e) % n;
            default -> n - e; // 0, 1, 4, 5 count down through 0 and wrap
        } & 0xFFFF;
    }

    /** The OUT pin now. */
    boolean out(long now) {
        long e = elapsed(now);
        int mode = mode();
        if (e < 0) return mode != 0;
        long n = period();
        return switch (mode) {
            case 0, 1 -> e >= n;
            case 2 -> !running || e % n != n - 1;
            case 3 -> !running || e % n < (n + 1) / 2;
            default -> e != n; // 4, 5: one clock low at terminal count
        };
    }

    /** The counter latch command: the value now is held for reading, unless a latch is already held. */
    void latchCount(long now) {
        if (latchedCount >= 0) return;
        latchedCount = value(now);
        latchedMsbNext = false;
    }

    /** The read-back command's status latch, unless one is already held. */
    void latchStatus(long now) {
        if (latchedStatus >= 0) return;
        latchedStatus = (out(now) ? 0x80 : 0) | (nullCount ? 0x40 : 0) | accessMode << 4 | modeBits << 1 | (bcd ? 1 : 0);
    }

    /** A read of the counter's port: the status latch, else the count latch, else the live count. */
    int read(long now) {
        if (latchedStatus >= 0) {
            int status = latchedStatus;
            latchedStatus = -1;
            return status;
        }
        if (latchedCount >= 0) {
            int value = latchedCount;
            boolean msb = switch (accessMode) {
                case ACCESS_MSB -> true;
                case ACCESS_WORD -> latchedMsbNext;
                default -> false;
            };
            if (accessMode == ACCESS_WORD && !latchedMsbNext) {
                latchedMsbNext = true;
            } else {
                latchedCount = -1;
            }
            return msb ? value >> 8 : value & 0xFF;
        }
        int value = value(now);
        return switch (accessMode) {
            case ACCESS_MSB -> value >> 8;
            case ACCESS_WORD -> {
                boolean msb = readMsbNext;
                readMsbNext = !readMsbNext;
                yield msb ? value >> 8 : value & 0xFF;
            }
            default -> value & 0xFF;
        };
    }
}

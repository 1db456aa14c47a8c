package org.jhyve.irqchip;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.OptionalLong;

/**
 * How the MC146818 shows time in its registers: BCD or binary (register B's DM bit), 12 or 24 hours (its 24/12
 * bit; in 12-hour mode bit 7 of the hours is PM). Register numbers are the CMOS indexes: 0 seconds, 2 minutes,
 * 4 hours, 6 day of week (1 = Sunday), 7 day of month, 8 month, 9 year of the century, 0x32 the century.
 *
 * <p>Threading rules: immutable.
 */
record RtcTimeFormat(boolean binary, boolean hours24) {
    static final int SECONDS = 0x00;
    static final int MINUTES = 0x02;
    static final int HOURS = 0x04;
    static final int DAY_OF_WEEK = 0x06;
    static final int DAY_OF_MONTH = 0x07;
    static final int MONTH = 0x08;
    static final int YEAR = 0x09;
    static final int CENTURY = 0x32;
    /** The registers {@link #encode} fills and {@link #decode} reads. */
    static final int[] TIME_REGISTERS = {SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY};

    static RtcTimeFormat of(int registerB) {
        return new RtcTimeFormat((registerB & 0x04) != 0, (registerB & 0x02) != 0);
    }

    /** Writes the time registers of {@code epochSecond} (UTC) into {@code cmos}. */
    void encode(long epochSecond, byte[] cmos) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(epochSecond, 0, ZoneOffset.UTC);
        cmos[SECONDS] = (byte) number(t.getSecond());
        cmos[MINUTES] = (byte) number(t.getMinute());
        cmos[HOURS] = (byte) hour(t.getHour());
        cmos[DAY_OF_WEEK] = (byte) number(t.getDayOfWeek().getValue() % 7 + 1);
        cmos[DAY_OF_MONTH] = (byte) number(t.getDayOfMonth());
        cmos[MONTH] = (byte) number(t.getMonthValue());
        cmos[YEAR] = (byte) number(Math.floorMod(t.getYear(), 100));
        cmos[CENTURY] = (byte) number(Math.floorDiv(t.getYear(), 100));
    }

    /** The epoch second (UTC) the time registers in {@code cmos} show, or empty if they show no valid time (before 2262). */
    OptionalLong decode(byte[] cmos) {
        int second = value(cmos[SECONDS]);
        int minute = value(cmos[MINUTES]);
        int hour = hourValue(cmos[HOURS]);
        int day = value(cmos[DAY_OF_MONTH]);
        int month = value(cmos[MONTH]);
        int year = value(cmos[YEAR]);
        int century = value(cmos[CENTURY]);
        // Beyond 2261 the time in epoch nanoseconds would overflow a long: such a date is refused like a bad one.
        if ((second | minute | hour | day | month | year | century) < 0 || year > 99 || century * 100 + year > 2261) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(LocalDateTime.of(century * 100 + year, month, day, hour, minute, second)
                    .toEpochSecond(ZoneOffset.UTC));
        } catch (DateTimeException invalid) {
            return OptionalLong.empty();
        }
    }

    /** The hours register for an hour of 0-23. */
    int hour(int hour) {
        if (hours24) return number(hour);
        int h12 = hour % 12 == 0 ? 12 : hour % 12;
        return number(h12) | (hour >= 12 ? 0x80 : 0);
    }

    /** A register's number in this format, 0-99. */
    int number(int n) {
        return binary ? n : (n / 10) << 4 | n % 10;
    }

    /** The number a register holds, or -1 when it is no valid BCD. */
    int value(byte register) {
        int v = register & 0xFF;
        if (binary) return v;
        return (v & 0x0F) > 9 || (v >> 4) > 9 ? -1 : (v >> 4) * 10 + (v & 0x0F);
    }

    private int hourValue(byte register) {
        if (hours24) return value(register);
        int h12 = value((byte) (register & 0x7F));
        if (h12 < 1 || h12 > 12) return -1;
        return h12 % 12 + ((register & 0x80) != 0 ? 12 : 0);
    }
}

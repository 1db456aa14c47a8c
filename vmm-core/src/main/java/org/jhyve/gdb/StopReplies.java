package org.jhyve.gdb;

/** Stop replies as gdb reads them: {@code T05thread:1;swbreak:;}, {@code T02thread:1;}, {@code W01}. */
final class StopReplies {
    private StopReplies() {}

    static final int SIGINT = 2;
    static final int SIGTRAP = 5;

    /**
     * {@code swbreak}/{@code hwbreak} are named only to a gdb that said it understands them (qSupported): with
     * them gdb takes the reported PC as the breakpoint's address as it is, without its own adjustment.
     */
    static String format(Stop stop, boolean gdbKnowsBreakpointKinds) {
        return switch (stop) {
            case Stop.Exited e -> "W" + Hex.littleEndian(e.status(), 1);
            case Stop.Interrupted i -> signal(SIGINT, i.thread());
            case Stop.Trapped t -> signal(SIGTRAP, t.thread()) + switch (t.cause()) {
                case NONE -> "";
                case SOFTWARE_BREAKPOINT -> gdbKnowsBreakpointKinds ? "swbreak:;" : "";
                case HARDWARE_BREAKPOINT -> gdbKnowsBreakpointKinds ? "hwbreak:;" : "";
                case WRITE_WATCH -> "watch:" + Hex.number(t.dataAddress()) + ";";
                case ACCESS_WATCH -> "awatch:" + Hex.number(t.dataAddress()) + ";";
            };
        };
    }

    private static String signal(int signal, int thread) {
        return "T" + Hex.littleEndian(signal, 1) + "thread:" + Hex.number(thread) + ";";
    }
}

package org.jhyve.gdb;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commands of the remote serial protocol, from a packet's payload to a {@link Reply}, against a
 * {@link GdbTarget}. Knows nothing of sockets or framing, so it is tested with a fake target.
 *
 * <p>Errors: a packet that does not parse, or asks for what the target cannot do, gets {@code E01}; a memory
 * access to an unmapped address {@code E0e} (EFAULT, as gdbserver); a packet the stub does not know, the
 * empty reply, which gdb reads as "not supported".
 */
final class GdbCommands {
    private static final Logger log = LoggerFactory.getLogger(GdbCommands.class);

    static final String ERROR = "E01";
    static final String FAULT = "E0e";
    /** The largest memory read answered in one reply; gdb asks again for the rest. */
    static final int MAX_READ = 0x1000;

    private final GdbTarget target;
    private final Consumer<Stop> whenStopped;
    private final QueryPackets queries;
    /** The thread {@code g}, {@code m}... act on ({@code Hg}), and the one legacy {@code s} steps ({@code Hc}, 0: all). */
    private int generalThread = 1;
    private int continueThread = 0;
    private Stop lastStop;

    /** {@code whenStopped} receives the stop of each resume, from whichever thread the target reports it on. */
    GdbCommands(GdbTarget target, Stop initialStop, Consumer<Stop> whenStopped) {
        this.target = target;
        this.whenStopped = whenStopped;
        this.queries = new QueryPackets(target);
        stopped(initialStop);
    }

    /** False once gdb has asked for no-acknowledgement mode. */
    boolean acknowledging() {
        return queries.acknowledging();
    }

    /** Formats the stop reply and makes its thread the current one, as gdb assumes. */
    String stopped(Stop stop) {
        lastStop = stop;
        if (stop instanceof Stop.Trapped t) generalThread = t.thread();
        if (stop instanceof Stop.Interrupted i) generalThread = i.thread();
        queries.currentThread(generalThread);
        return StopReplies.format(stop, queries.gdbKnowsBreakpointKinds());
    }

    Reply handle(String packet) {
        if (packet.isEmpty()) return Reply.send("");
        try {
            return dispatch(packet);
        } catch (BadPacketException e) {
            log.debug("gdb packet '{}': {}", printable(packet), e.getMessage());
            return Reply.send(ERROR);
        } catch (RuntimeException e) {
            // The target could not do it (the VM ended meanwhile, a hypervisor call failed): an error reply, not a dead stub.
            log.warn("gdb packet '{}' failed: {}", printable(packet), e.toString());
            return Reply.send(ERROR);
        }
    }

    private Reply dispatch(String packet) throws BadPacketException {
        String args = packet.substring(1);
        if (lastStop instanceof Stop.Exited && "gGpPmMXZzcsCSH".indexOf(packet.charAt(0)) >= 0) return Reply.send(ERROR);
        return switch (packet.charAt(0)) {
            case '?' -> Reply.send(StopReplies.format(lastStop, queries.gdbKnowsBreakpointKinds()));
            case 'g' -> Reply.send(X86Registers.encodeAll(target.readRegisters(generalThread)));
            case 'G' -> writeAllRegisters(args);
            case 'p' -> readRegister(args);
            case 'P' -> writeRegister(args);
            case 'm' -> readMemory(args);
            case 'M' -> writeMemory(args, false);
            case 'X' -> writeMemory(args, true);
            case 'Z' -> breakpoint(args, true);
            case 'z' -> breakpoint(args, false);
            case 'c', 'C' -> resumeLegacy(args, packet.charAt(0) == 'C', ResumeAction.CONTINUE);
            case 's', 'S' -> resumeLegacy(args, packet.charAt(0) == 'S', ResumeAction.STEP);
            case 'v' -> vPacket(args);
            case 'H' -> selectThread(args);
            case 'T' -> {
                ResumeParser.thread(args, target.threadCount());
                yield Reply.send("OK");
            }
            case 'q', 'Q' -> Reply.send(queries.answer(packet));
            case 'D' -> {
                target.detach();
                yield new Reply.Close(Optional.of("OK"));
            }
            case 'k' -> {
                target.kill();
                yield new Reply.Close(Optional.empty());
            }
            default -> Reply.send("");
        };
    }

    private Reply writeAllRegisters(String hex) throws BadPacketException {
        CpuState current = target.readRegisters(generalThread);
        target.writeRegisters(generalThread, X86Registers.decodeAll(current, Hex.parseBytes(hex)));
        return Reply.send("OK");
    }

    private Reply readRegister(String args) throws BadPacketException {
        long n = Hex.parseNumber(args);
        if (n >= X86Registers.ALL.size()) throw new BadPacketException("no register " + n);
        return Reply.send(X86Registers.encode(target.readRegisters(generalThread), (int) n));
    }

    private Reply writeRegister(String args) throws BadPacketException {
        int eq = args.indexOf('=');
        if (eq < 0) throw new BadPacketException("P without '='");
        long n = Hex.parseNumber(args.substring(0, eq));
        if (n >= X86Registers.ALL.size()) throw new BadPacketException("no register " + n);
        CpuState current = target.readRegisters(generalThread);
        target.writeRegisters(generalThread, X86Registers.decodeOne(current, (int) n, Hex.parseBytes(args.substring(eq + 1))));
        return Reply.send("OK");
    }

    private Reply readMemory(String args) throws BadPacketException {
        long[] range = addressAndLength(args);
        int length = (int) Math.min(range[1], MAX_READ);
        byte[] data = target.readMemory(generalThread, range[0], length);
        if (data.length == 0 && length > 0) return Reply.send(FAULT);
        return Reply.send(Hex.bytes(data));
    }

    /** {@code M addr,len:hex} or {@code X addr,len:binary}; a zero-length X is gdb asking whether X works. */
    private Reply writeMemory(String args, boolean binary) throws BadPacketException {
        int colon = args.indexOf(':');
        if (colon < 0) throw new BadPacketException("no ':' before the data");
        long[] range = addressAndLength(args.substring(0, colon));
        String body = args.substring(colon + 1);
        byte[] data = binary ? body.getBytes(StandardCharsets.ISO_8859_1) : Hex.parseBytes(body);
        if (data.length != range[1]) throw new BadPacketException("length " + range[1] + " but " + data.length + " bytes of data");
        if (data.length == 0) return Reply.send("OK");
        return Reply.send(target.writeMemory(generalThread, range[0], data) ? "OK" : FAULT);
    }

    private static long[] addressAndLength(String args) throws BadPacketException {
        int comma = args.indexOf(',');
        if (comma < 0) throw new BadPacketException("expected ADDR,LENGTH");
        long length = Hex.parseNumber(args.substring(comma + 1));
        if (length > PacketDecoder.MAX_PAYLOAD) throw new BadPacketException("length " + length + " is more than a packet");
        return new long[] {Hex.parseNumber(args.substring(0, comma)), length};
    }

    /** {@code Z/z TYPE,ADDR,KIND[;conditions]}; conditions (evaluated by gdb instead) are ignored. */
    private Reply breakpoint(String args, boolean insert) throws BadPacketException {
        int semi = args.indexOf(';');
        String[] parts = (semi < 0 ? args : args.substring(0, semi)).split(",");
        if (parts.length != 3) throw new BadPacketException("expected TYPE,ADDR,KIND");
        long type = Hex.parseNumber(parts[0]);
        if (type >= Breakpoint.Type.values().length) return Reply.send("");
        Breakpoint.Type kind = Breakpoint.Type.values()[(int) type];
        // x86 debug registers cannot watch reads alone: saying so lets gdb tell the user.
        if (kind == Breakpoint.Type.READ_WATCH) return Reply.send("");
        Breakpoint bp = new Breakpoint(kind, Hex.parseNumber(parts[1]), (int) Math.min(Hex.parseNumber(parts[2]), 1 << 16));
        boolean done = insert ? target.insertBreakpoint(bp) : target.removeBreakpoint(bp);
        return Reply.send(done ? "OK" : ERROR);
    }

    /** {@code c}, {@code s}, {@code C sig}, {@code S sig}, each with an optional address to resume at. */
    private Reply resumeLegacy(String args, boolean withSignal, ResumeAction action) throws BadPacketException {
        String address = args;
        if (withSignal) {
            int semi = args.indexOf(';');
            Hex.parseNumber(semi < 0 ? args : args.substring(0, semi));
            address = semi < 0 ? "" : args.substring(semi + 1);
        }
        int thread = continueThread == 0 ? generalThread : continueThread;
        if (!address.isEmpty()) {
            CpuState s = target.readRegisters(thread);
            target.writeRegisters(thread, new CpuState(s.regs().withRip(Hex.parseNumber(address)), s.sregs(), s.fpu()));
        }
        Map<Integer, ResumeAction> actions = new HashMap<>();
        if (action == ResumeAction.STEP) {
            actions.put(thread, ResumeAction.STEP);
        } else {
            for (int t = 1; t <= target.threadCount(); t++) actions.put(t, ResumeAction.CONTINUE);
        }
        return resume(actions);
    }

    private Reply resume(Map<Integer, ResumeAction> actions) {
        target.resume(actions, whenStopped);
        return new Reply.Resumed();
    }

    private Reply vPacket(String args) throws BadPacketException {
        if (args.equals("Cont?")) return Reply.send(ResumeParser.SUPPORTED);
        if (args.startsWith("Cont;")) return resume(ResumeParser.parse(args.substring(5), target.threadCount()));
        if (args.equals("Kill") || args.startsWith("Kill;")) {
            target.kill();
            return new Reply.Close(Optional.of("OK"));
        }
        return Reply.send(""); // vMustReplyEmpty among them: the empty reply is the answer
    }

    /** {@code Hg THREAD} / {@code Hc THREAD}: 0 is any thread, -1 all (for c: every thread continues). */
    private Reply selectThread(String args) throws BadPacketException {
        if (args.isEmpty()) throw new BadPacketException("H without an operation");
        String id = args.substring(1);
        int thread = id.equals("-1") ? 0 : ResumeParser.thread(id, target.threadCount());
        switch (args.charAt(0)) {
            case 'g' -> generalThread = thread == 0 ? 1 : thread;
            case 'c' -> continueThread = thread;
            default -> throw new BadPacketException("H" + args.charAt(0));
        }
        return Reply.send("OK");
    }

    /** A packet for a log line: binary bytes shown as '.', long ones cut. */
    static String printable(String packet) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(packet.length(), 80); i++) {
            char c = packet.charAt(i);
            s.append(c >= 0x20 && c < 0x7f ? c : '.');
        }
        return packet.length() > 80 ? s + "..." : s.toString();
    }
}

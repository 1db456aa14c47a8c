package org.jhyve.gdb;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code vCont;ACTION[:THREAD]...} into what each thread does. For each thread the leftmost action that names
 * it (or names all threads, as {@code -1} or no thread does) wins; {@code t} keeps a thread stopped. Signals
 * in {@code C}/{@code S} are dropped: there is no process to deliver them to, only a machine.
 */
final class ResumeParser {
    private ResumeParser() {}

    static final String SUPPORTED = "vCont;c;C;s;S;t";

    /** The threads that run or step; every other thread stays stopped. */
    static Map<Integer, ResumeAction> parse(String actions, int threadCount) throws BadPacketException {
        Map<Integer, ResumeAction> result = new LinkedHashMap<>();
        boolean[] decided = new boolean[threadCount + 1];
        for (String item : actions.split(";", -1)) {
            if (item.isEmpty()) throw new BadPacketException("empty vCont action");
            int colon = item.indexOf(':');
            String verb = colon < 0 ? item : item.substring(0, colon);
            if (verb.isEmpty()) throw new BadPacketException("vCont action without a verb: " + item);
            ResumeAction action = switch (verb.charAt(0)) {
                case 'c', 'C' -> ResumeAction.CONTINUE;
                case 's', 'S' -> ResumeAction.STEP;
                case 't' -> null;
                default -> throw new BadPacketException("unknown vCont action " + verb);
            };
            if (verb.charAt(0) == 'C' || verb.charAt(0) == 'S') {
                Hex.parseNumber(verb.substring(1)); // the signal: checked, then dropped
            } else if (verb.length() != 1) {
                throw new BadPacketException("unknown vCont action " + verb);
            }
            int first = 1;
            int last = threadCount;
            if (colon >= 0) {
                String id = item.substring(colon + 1);
                if (!id.equals("-1")) {
                    first = last = thread(id, threadCount);
                }
            }
            for (int t = first; t <= last; t++) {
                if (decided[t]) continue;
                decided[t] = true;
                if (action != null) result.put(t, action);
            }
        }
        if (result.isEmpty()) throw new BadPacketException("vCont resumes no thread");
        return result;
    }

    /** A thread id 1..threadCount ("0", any thread, is thread 1). */
    static int thread(String id, int threadCount) throws BadPacketException {
        long t = Hex.parseNumber(id);
        if (t == 0) return 1;
        if (t > threadCount) throw new BadPacketException("no thread " + id);
        return (int) t;
    }
}

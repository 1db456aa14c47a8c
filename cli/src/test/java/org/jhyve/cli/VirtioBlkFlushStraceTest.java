package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Durability where it can be seen: jhyve runs under {@code strace -f} tracing preadv, pwritev and fdatasync
 * on the image, with the freestanding virtio-blk guest (guests/src/main/c/virtio-blk.c), which writes
 * sectors 8-15, FLUSHes, and only once it has seen the FLUSH complete reads them back. So in the trace the
 * guest's pwritev of those sectors must end before an fdatasync of the same file starts, and that
 * fdatasync must return 0 before the read-back preadv starts: the FLUSH completed after the data was on
 * stable storage. (A SIGKILL test cannot show this: the page cache outlives the process.)
 */
@Timeout(180)
class VirtioBlkFlushStraceTest {
    @TempDir
    Path dir;

    /** One traced call: its name, its offset argument (-1 for fdatasync), its result, and the trace lines where it started and ended. */
    record Call(String name, long offset, long result, int startLine, int endLine) {}

    private static final Pattern ENTRY = Pattern.compile("^(\\d+) +(preadv|pwritev|fdatasync)\\((.*)$");
    private static final Pattern RESUMED = Pattern.compile("^(\\d+) +<\\.\\.\\. (preadv|pwritev|fdatasync) resumed>(.*)$");
    private static final Pattern RESULT = Pattern.compile("\\) += (-?\\d+)");
    private static final Pattern OFFSET = Pattern.compile(", (\\d+)\\) += |, (\\d+) <unfinished");

    /** Pairs each call's entry with its result ("unfinished" / "resumed" when threads interleave). */
    static List<Call> parse(List<String> lines) {
        List<Call> calls = new ArrayList<>();
        java.util.Map<String, Object[]> open = new java.util.HashMap<>(); // pid -> {name, offset, startLine}
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher m = ENTRY.matcher(line);
            if (m.matches()) {
                String name = m.group(2), rest = m.group(3);
                long offset = -1;
                Matcher o = OFFSET.matcher(rest);
                if (!name.equals("fdatasync") && o.find()) offset = Long.parseLong(o.group(1) != null ? o.group(1) : o.group(2));
                if (rest.endsWith("<unfinished ...>")) {
                    open.put(m.group(1), new Object[] {name, offset, i});
                } else {
                    Matcher r = RESULT.matcher(rest);
                    calls.add(new Call(name, offset, r.find() ? Long.parseLong(r.group(1)) : Long.MIN_VALUE, i, i));
                }
                continue;
            }
            m = RESUMED.matcher(line);
            if (m.matches()) {
                Object[] started = open.remove(m.group(1));
                if (started == null) continue;
                Matcher r = RESULT.matcher(m.group(3));
                calls.add(new Call((String) started[0], (long) started[1], r.find() ? Long.parseLong(r.group(1)) : Long.MIN_VALUE, (int) started[2], i));
            }
        }
        calls.sort(java.util.Comparator.comparingInt(Call::startLine));
        return calls;
    }

    @Test
    void theGuestsWriteIsFdatasyncedBeforeItsFlushCompletes() throws Exception {
        GuestImages.assumeKvm();
        Assumptions.assumeTrue(runs("strace", "-V"), "strace is not installed (Debian package strace)");
        byte[] original = new byte[1 << 20];
        new java.util.Random(7).nextBytes(original);
        Path img = Files.write(dir.resolve("disk.img"), original);
        Path trace = dir.resolve("trace.txt");
        List<String> strace = List.of("strace", "-f", "-qq", "--seccomp-bpf", "-y", "-e", "trace=preadv,pwritev,fdatasync", "-e", "signal=none",
                "-P", img.toString(), "-o", trace.toString());
        Process p = JhyveProcess.startWithPrefix(strace, dir.resolve("err.txt"), "-m", "64M", "-s", "0:0,hostbridge", "-s", "4,virtio-blk," + img,
                "-s", "31,lpc", "-l", "com1,stdio", "-f", "kexec," + GuestImages.extract(dir, "virtio-blk.elf"));
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(150, TimeUnit.SECONDS)).isTrue();
        String err = Files.readString(dir.resolve("err.txt"));
        Assumptions.assumeFalse(err.contains("strace: ") && (err.contains("ptrace") || err.contains("Operation not permitted")),
                () -> "strace may not trace processes here: " + err.strip());
        assertThat(out).contains("write status=0\r\n", "flush status=0\r\n", "flushed\r\n", "done\r\n");
        assertThat(p.exitValue()).as("powered off").isEqualTo(1);

        List<String> lines = Files.readAllLines(trace);
        List<Call> calls = parse(lines);
        String shown = String.join("\n", lines);
        Call write = calls.stream().filter(c -> c.name().equals("pwritev") && c.offset() == 4096 && c.result() == 4096).findFirst()
                .orElseThrow(() -> new AssertionError("no pwritev of the guest's 4 KiB at offset 4096 in the trace:\n" + shown));
        Call readBack = calls.stream().filter(c -> c.name().equals("preadv") && c.offset() == 4096 && c.startLine() > write.endLine()).findFirst()
                .orElseThrow(() -> new AssertionError("no read-back preadv at offset 4096 after the write:\n" + shown));
        List<Call> syncsBetween = calls.stream()
                .filter(c -> c.name().equals("fdatasync") && c.result() == 0 && c.startLine() > write.endLine() && c.endLine() < readBack.startLine())
                .toList();
        assertThat(syncsBetween).as("an fdatasync that started after the guest's pwritev ended and returned 0 before the guest, "
                + "having seen its FLUSH complete, read the sectors back; trace:\n%s", shown).isNotEmpty();
        assertThat(Arrays.copyOfRange(Files.readAllBytes(img), 4096, 8192)).isEqualTo(pattern());
    }

    @Test
    void theTraceParserPairsUnfinishedCallsWithTheirResults() {
        List<Call> calls = parse(List.of(
                "10 pwritev(12</d.img>, [{iov_base=\"\\x03\", iov_len=4096}], 1, 4096) = 4096",
                "11 fdatasync(12</d.img> <unfinished ...>",
                "10 preadv(12</d.img>, [{iov_base=\"\", iov_len=4096}], 1, 0 <unfinished ...>",
                "11 <... fdatasync resumed>) = 0",
                "10 <... preadv resumed>[{iov_base=\"\\x01\", iov_len=4096}], 1, 0) = 4096"));
        assertThat(calls).containsExactly(new Call("pwritev", 4096, 4096, 0, 0), new Call("fdatasync", -1, 0, 1, 3), new Call("preadv", 0, 4096, 2, 4));
    }

    static byte[] pattern() {
        byte[] p = new byte[4096];
        for (int i = 0; i < p.length; i++) p[i] = (byte) (i * 7 + 3);
        return p;
    }

    private static boolean runs(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException | InterruptedException e) {
            return false;
        }
    }
}

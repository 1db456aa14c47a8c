package org.jhyve.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guest's shell on jhyve's {@code -l com1,stdio}, typed into as a user would: each command is written to
 * jhyve's standard input and followed by an {@code echo} of a numbered marker with the command's status, so
 * the output of one command is everything before its marker. The marker as typed ({@code $((N))}, {@code $?})
 * differs from the marker as printed, so the terminal's echo of the typed line is never taken for it.
 *
 * <p>Threading: one test thread calls {@link #run}; a daemon thread reads jhyve's output into a queue.
 */
final class SerialShell implements AutoCloseable {
    /** What one command printed (not the terminal's echo of the command line) and its exit status. */
    record Result(String output, int status) {}

    private static final String EOF = "\u0000eof";
    private final Process jhyve;
    private final OutputStream in;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder transcript = new StringBuilder();
    private int next = 1000;

    private final java.nio.file.Path transcriptFile;

    /** Drives {@code jhyve}'s console; {@link #close} kills jhyve and writes the transcript to {@code transcriptFile}. */
    SerialShell(Process jhyve, java.nio.file.Path transcriptFile) {
        this.jhyve = jhyve;
        this.transcriptFile = transcriptFile;
        this.in = jhyve.getOutputStream();
        Thread.ofPlatform().daemon().name("serial-shell-reader").start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(jhyve.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    String clean = line.replace("\r", "");
                    synchronized (transcript) {
                        transcript.append(clean).append('\n');
                    }
                    lines.add(clean);
                }
            } catch (IOException e) {
                // jhyve ended: EOF below says so
            }
            lines.add(EOF);
        });
    }

    /** Waits for a line containing {@code text}; returns everything printed up to and including it. */
    String await(String text, Duration timeout) throws InterruptedException {
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = nextLine(deadline, "a line containing '" + text + "'", timeout);
            seen.append(line).append('\n');
            if (line.contains(text)) return seen.toString();
        }
    }

    /** Types {@code command} and waits for its status. */
    Result run(String command, Duration timeout) throws InterruptedException {
        int n = next++;
        String typedMarker = "@@$((" + n + "))";
        type(command + "; echo " + typedMarker + "-$?");
        Pattern marker = Pattern.compile("@@" + n + "-(\\d+)");
        StringBuilder output = new StringBuilder();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = nextLine(deadline, "the end of '" + command + "'", timeout);
            Matcher m = marker.matcher(line);
            if (m.find()) {
                output.append(line, 0, m.start());
                return new Result(output.toString(), Integer.parseInt(m.group(1)));
            }
            if (!line.contains(typedMarker)) output.append(line).append('\n'); // not the terminal's echo of the command
        }
    }

    /** The next line of jhyve's output before {@code deadline}; failing, with the transcript, at the deadline or jhyve's end. */
    private String nextLine(long deadline, String awaited, Duration timeout) throws InterruptedException {
        String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (line == null) throw new AssertionError("no " + awaited + " within " + timeout + "; console:\n" + transcript());
        if (line == EOF) throw new AssertionError("jhyve ended before " + awaited + "; console:\n" + transcript());
        return line;
    }

    /** {@link #run}, failing with the console's transcript unless the status is 0. */
    String ok(String command, Duration timeout) throws InterruptedException {
        Result r = run(command, timeout);
        if (r.status() != 0) throw new AssertionError("'" + command + "' exited " + r.status() + ":\n" + r.output() + "\nconsole:\n" + transcript());
        return r.output();
    }

    /** Writes one line to the guest's console, as typing it and pressing Enter. */
    void type(String line) {
        try {
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String transcript() {
        synchronized (transcript) {
            return transcript.toString();
        }
    }

    /** The exit status of jhyve after the guest was left to end on its own. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!jhyve.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) throw new AssertionError("jhyve still runs after " + timeout + "; console:\n" + transcript());
        return jhyve.exitValue();
    }

    @Override
    public void close() {
        jhyve.destroyForcibly();
        try {
            java.nio.file.Files.writeString(transcriptFile, transcript());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

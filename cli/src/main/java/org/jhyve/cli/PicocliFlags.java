package org.jhyve.cli;

import java.io.PrintStream;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * picocli's side of the command line: the lines {@link FlagScanner} does not take, their error messages,
 * and the usage text. A class of its own so that {@link Main} names no picocli type: the JVM loads the
 * exception types a method catches when it verifies the method's class, and the start path loads no
 * picocli class at all (StartPathClassesTest checks it).
 */
final class PicocliFlags {
    private static final int ERROR = org.jhyve.vm.ExitStatus.ERROR.code();

    private PicocliFlags() {}

    /** picocli's parser of {@code flags}: the definition of jhyve's flags. */
    static picocli.CommandLine parser(CommandLine flags) {
        picocli.CommandLine parser = new picocli.CommandLine(flags);
        // picocli would read "@FILE" arguments as more arguments: "@/dev/stdin" waited on stdin, "@/dev/zero"
        // read until the heap ran out. xhyve has no such thing; an argument starting with @ is just an argument.
        parser.setExpandAtFiles(false);
        return parser;
    }

    /** The flags {@code args} give, or null once one line on {@code err} has said what is wrong (status 4). */
    static CommandLine parse(String[] args, PrintStream err) {
        CommandLine flags = new CommandLine();
        try {
            parser(flags).parseArgs(args);
            return flags;
        } catch (UnmatchedArgumentException e) {
            String first = e.getUnmatched().getFirst();
            err.println("jhyve: " + first + (first.startsWith("-") ? ": unknown flag (see -h)" : ": unexpected argument"));
        } catch (ParameterException e) {
            err.println("jhyve: " + Failures.firstLine(e.getMessage()));
        }
        return null;
    }

    /** -h's text about the flags. */
    static String usage() {
        return parser(new CommandLine()).getUsageMessage();
    }
}

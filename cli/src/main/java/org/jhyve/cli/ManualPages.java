package org.jhyve.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.AutoComplete;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The man page (troff, man(7) macros) and the bash completion script, both from {@link CommandLine}'s picocli
 * definition, so that a flag added there is in both. picocli's own man page generator (picocli-codegen) writes
 * AsciiDoc, which needs asciidoctor to become troff; the page here is written directly from the same model.
 * {@code scripts/jhyve-docs} runs {@link #main}; {@code ManPageAndCompletionTest} checks both list every flag.
 */
final class ManualPages {
    private ManualPages() {}

    static final String MAN_PAGE = "jhyve.1", COMPLETION = "jhyve-completion.bash";

    /** Writes {@value #MAN_PAGE} and {@value #COMPLETION} into the directory {@code args[0]}. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ManualPages DIRECTORY");
            System.exit(4);
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        Files.writeString(dir.resolve(MAN_PAGE), manPage());
        Files.writeString(dir.resolve(COMPLETION), completion());
    }

    static CommandSpec spec() {
        return new picocli.CommandLine(new CommandLine()).getCommandSpec();
    }

    /** picocli's bash (and zsh) completion script for the command. */
    static String completion() {
        return AutoComplete.bash("jhyve", new picocli.CommandLine(new CommandLine()));
    }

    /** The man page: NAME, SYNOPSIS, DESCRIPTION, OPTIONS, ARGUMENTS, EXIT STATUS, SEE ALSO. */
    static String manPage() {
        CommandSpec spec = spec();
        StringBuilder t = new StringBuilder();
        t.append(".TH JHYVE 1 \"\" \"").append(Main.VERSION).append("\" \"User Commands\"\n");
        t.append(".SH NAME\njhyve \\- run a virtual machine on Linux KVM with xhyve's and bhyve's command line\n");
        t.append(".SH SYNOPSIS\n.nf\n");
        for (String line : spec.usageMessage().customSynopsis()) t.append(escape(line.replace("%n", ""))).append('\n');
        t.append(".fi\n.SH DESCRIPTION\n");
        for (String line : spec.usageMessage().description()) t.append(escape(line)).append('\n');
        t.append(".SH OPTIONS\n");
        for (OptionSpec o : spec.options()) {
            t.append(".TP\n");
            List<String> names = List.of(o.names());
            for (int i = 0; i < names.size(); i++) {
                if (i > 0) t.append(", ");
                t.append("\\fB").append(escape(names.get(i))).append("\\fR");
            }
            if (o.arity().max() > 0) t.append(" \\fI").append(escape(o.paramLabel())).append("\\fR");
            t.append('\n').append(escape(description(o))).append('\n');
        }
        t.append(".SH ARGUMENTS\n");
        for (PositionalParamSpec p : spec.positionalParameters()) {
            t.append(".TP\n\\fI").append(escape(p.paramLabel())).append("\\fR\n").append(escape(description(p))).append('\n');
        }
        t.append(".SH EXIT STATUS\n");
        for (String line : spec.usageMessage().footer()) t.append(escape(line)).append("\n.br\n");
        t.append(".SH SEE ALSO\nbhyve(8), xhyve; docs/cli.md in jhyve's sources lists every flag with its state.\n");
        return t.toString();
    }

    private static String description(ArgSpec a) {
        return String.join(" ", a.description());
    }

    /** troff: a backslash is \e, a hyphen \- (a real minus, which man pages use for flags), and no line starts with . or '. */
    static String escape(String text) {
        String s = text.replace("\\", "\\e").replace("-", "\\-");
        if (s.startsWith(".") || s.startsWith("'")) s = "\\&" + s;
        return s;
    }
}

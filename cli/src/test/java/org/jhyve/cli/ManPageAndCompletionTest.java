package org.jhyve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.OptionSpec;

/** The man page and the bash completion script mention every flag of the command, from the one definition. */
class ManPageAndCompletionTest {
    static final List<String> FLAGS = ManualPages.spec().options().stream().flatMap(o -> Arrays.stream(o.names())).toList();

    @Test
    void everyFlagIsInTheManPage() {
        String page = ManualPages.manPage();
        // Each option's entry: .TP, then its names in bold (hyphens as \-).
        Set<String> documented = page.lines().filter(l -> l.startsWith("\\fB"))
                .flatMap(l -> Arrays.stream(l.split(", ")))
                .map(n -> n.replaceAll("^\\\\fB|\\\\fR.*$", "").replace("\\-", "-")).collect(Collectors.toSet());
        assertThat(documented).containsAll(FLAGS);
        assertThat(page).startsWith(".TH JHYVE 1").contains(".SH SYNOPSIS", ".SH OPTIONS", ".SH EXIT STATUS", "\\fIvmname\\fR");
        assertThat(page.lines()).as("no line a troff request by accident").allMatch(l -> !l.startsWith(".") || l.matches("\\.(TH|SH|TP|nf|fi|br)( .*)?"));
    }

    @Test
    void everyFlagIsInTheCompletionScript() {
        String script = ManualPages.completion();
        Set<String> words = Arrays.stream(script.split("[\\s\"'()=]+")).collect(Collectors.toSet());
        assertThat(words).containsAll(FLAGS);
        assertThat(script).contains("complete -F _complete_jhyve").contains("jhyve");
    }

    @Test
    void flagsThatTakeValuesAreCompletedAsSuch() {
        String script = ManualPages.completion();
        String argOpts = script.lines().filter(l -> l.strip().startsWith("local arg_opts=")).findFirst().orElseThrow();
        for (OptionSpec o : ManualPages.spec().options()) {
            if (o.arity().max() > 0) assertThat(argOpts).contains(o.names()[0]);
        }
    }

    @Test
    void theScriptWritesBothFiles(@TempDir Path dir) throws Exception {
        ManualPages.main(new String[] {dir.toString()});
        assertThat(Files.readString(dir.resolve(ManualPages.MAN_PAGE))).isEqualTo(ManualPages.manPage());
        assertThat(Files.readString(dir.resolve(ManualPages.COMPLETION))).isEqualTo(ManualPages.completion());
    }
}

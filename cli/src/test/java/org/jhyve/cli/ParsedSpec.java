package org.jhyve.cli;

import java.util.Map;
import org.jhyve.devices.DeviceCatalog;

/** The command line parsed and validated as the jhyve command does, without launching anything, on a 1 TiB host. */
final class ParsedSpec {
    private ParsedSpec() {}

    static MachineSpec of(String... flags) throws UsageException {
        CommandLine c = new CommandLine();
        new picocli.CommandLine(c).parseArgs(flags);
        return MachineSpec.from(c, DeviceCatalog.standard(Map.of()), 1L << 40);
    }
}

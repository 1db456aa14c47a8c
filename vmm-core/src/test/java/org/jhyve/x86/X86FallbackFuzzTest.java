package org.jhyve.x86;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.jhyve.fuzz.Findings;
import org.jhyve.fuzz.FuzzMemory;
import org.jhyve.hv.FpuState;
import org.jhyve.hv.Registers;
import org.jhyve.hv.Segment;
import org.jhyve.hv.SpecialRegisters;

/**
 * Fuzz target for the instruction fallback (docs/reliability.md): {@link InstructionFallback#complete} on a vCPU
 * whose registers, mode, control registers, page mappings, reported instruction bytes and guest memory come
 * from the input.
 *
 * <p>Documented exceptions: none (the recording vCPU can inject exceptions, so the UnsupportedOperationException
 * of a hypervisor that cannot does not arise). Asserted: no access outside guest RAM (the fallback checks every
 * page first), the step budget holds, and an {@code Unsupported} result leaves the vCPU untouched, as its
 * javadoc promises.
 */
class X86FallbackFuzzTest {
    private static final long RAM_LOW = 0x10000, RAM_HIGH_BASE = 0x20000, RAM_HIGH = 0x10000;
    private static final long BUDGET = 100_000;
    /** One memory for every input (allocating per input would load the GC); {@link FuzzMemory#load} clears it. */
    private static final FuzzMemory MEMORY = FuzzMemory.of(FuzzMemory.OutsideRam.FINDING, new Findings("x86-fallback"), BUDGET,
            0, RAM_LOW, RAM_HIGH_BASE, RAM_HIGH);

    @FuzzTest(maxDuration = "10s")
    void fallback(FuzzedDataProvider data) {
        Findings findings = new Findings("x86-fallback");
        FuzzMemory memory = MEMORY;
        memory.arm(findings, BUDGET);
        SpecialRegisters sregs = specialRegisters(data);
        Registers regs = registers(data);
        // Linear addresses below 0x30000 map to themselves (a hole at 0x10000-0x1ffff included); a few pages elsewhere.
        RecordingVcpu vcpu = new RecordingVcpu(regs, sregs, RAM_HIGH_BASE + RAM_HIGH);
        int remaps = data.consumeInt(0, 4);
        for (int i = 0; i < remaps; i++) vcpu.mapPage(data.consumeLong(), data.consumeLong(0, 0x40000));
        int holes = data.consumeInt(0, 2);
        for (int i = 0; i < holes; i++) vcpu.unmapPage(data.consumeLong(0, 0x30000));
        FpuState fpu = FpuState.initial().withMxcsr(data.consumeInt());
        vcpu.setFpu(fpu);
        byte[] reported = data.consumeBytes(data.consumeInt(0, 16));
        memory.load(data.consumeRemainingAsBytes());
        Registers before = vcpu.getRegisters();
        int fpuWritesBefore = vcpu.fpuWrites();

        InstructionFallback.Result result = new InstructionFallback().complete(vcpu, memory, reported);

        if (result instanceof InstructionFallback.Result.Unsupported) {
            findings.check(vcpu.getRegisters().equals(before) && vcpu.fpuWrites() == fpuWritesBefore && vcpu.pendingExceptions().isEmpty(),
                    "Unsupported (" + result + ") but the vCPU was changed");
        }
        findings.throwIfAny();
    }

    private static Registers registers(FuzzedDataProvider data) {
        long[] r = new long[18];
        for (int i = 0; i < r.length; i++) r[i] = data.consumeLong();
        // RIP and RSP mostly inside RAM, so that code fetches and stack accesses get somewhere.
        if (data.consumeBoolean()) r[16] = data.consumeLong(0, RAM_HIGH_BASE + RAM_HIGH);
        if (data.consumeBoolean()) r[6] = data.consumeLong(0, RAM_HIGH_BASE + RAM_HIGH);
        return new Registers(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
                r[14], r[15], r[16], r[17] | Registers.RFLAGS_RESERVED);
    }

    private static SpecialRegisters specialRegisters(FuzzedDataProvider data) {
        SpecialRegisters s = switch (data.consumeInt(0, 3)) {
            case 0 -> CpuStates.longMode();
            case 1 -> CpuStates.protected32(data.consumeLong(0, 0xffff_ffffL));
            case 2 -> CpuStates.realMode(data.consumeInt(0, 0xffff), data.consumeInt(0, 0xffff), data.consumeInt(0, 0xffff));
            default -> CpuStates.withFsBase(CpuStates.longMode(), data.consumeLong());
        };
        if (data.consumeBoolean()) s = CpuStates.withCr0(s, s.cr0() ^ data.consumeLong());
        if (data.consumeBoolean()) s = CpuStates.withCr4(s, s.cr4() ^ data.consumeLong());
        if (data.consumeBoolean()) s = CpuStates.withSsBase(s, data.consumeLong());
        if (data.consumeBoolean()) {
            // Any CS descriptor cache: the mode follows from CR0.PE, EFER.LMA, CS.L and CS.D.
            Segment cs = new Segment(data.consumeLong(), data.consumeInt(), data.consumeInt(0, 0xffff), data.consumeInt(0, 15),
                    data.consumeBoolean(), data.consumeInt(0, 3), data.consumeBoolean(), true, data.consumeBoolean(),
                    data.consumeBoolean(), false, false);
            s = new SpecialRegisters(cs, s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(), s.idt(),
                    s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer() ^ (data.consumeBoolean() ? SpecialRegisters.EFER_LMA : 0), s.apicBase());
        }
        return s;
    }
}

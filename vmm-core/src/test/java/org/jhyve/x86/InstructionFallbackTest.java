package org.jhyve.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jhyve.x86.Hex.bytes;

import org.jhyve.hv.FpuState;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;
import org.jhyve.memory.SegmentGuestMemory;
import org.jhyve.x86.InstructionFallback.Result.Completed;
import org.jhyve.x86.InstructionFallback.Result.Unsupported;
import org.jhyve.x86.RecordingVcpu.InjectedException;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class InstructionFallbackTest {
    private static final long RAM = 16L << 20;
    private static final long CODE = 0x10_0000;
    private static final long STACK = 0x20_0000;
    private static final byte[] NOT_REPORTED = new byte[0];

    private final SegmentGuestMemory memory = SegmentGuestMemory.onHeap(RAM);
    private final InstructionFallback fallback = new InstructionFallback();

    private RecordingVcpu vcpuAt(long rip, SpecialRegisters sregs) {
        return new RecordingVcpu(Registers.initial(rip).withRsp(STACK), sregs, RAM);
    }

    /** A 64-bit kernel-mode vCPU stopped at CODE, where {@code hex} has been written. */
    private RecordingVcpu longModeVcpuRunning(String hex) {
        memory.write(CODE, bytes(hex));
        return vcpuAt(CODE, CpuStates.longMode());
    }

    private static Registers withRax(Registers r, long rax) {
        return new Registers(rax, r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rsp(), r.rbp(), r.r8(), r.r9(), r.r10(),
                r.r11(), r.r12(), r.r13(), r.r14(), r.r15(), r.rip(), r.rflags());
    }

    private static InjectedException exception(int vector, int errorCode) {
        return new InjectedException(vector, errorCode);
    }

    @Nested
    class Int3 {
        @Test
        void movesRipPastItAndQueuesABreakpointTrap() {
            RecordingVcpu vcpu = longModeVcpuRunning("cc");

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("int3"));
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE + 1);
            assertThat(vcpu.pendingExceptions()).containsExactly(exception(3, -1));
        }

        @Test
        void usesTheBytesTheHypervisorReported() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f 0b"); // memory says ud2, the exit said int3

            var result = fallback.complete(vcpu, memory, bytes("cc"));

            assertThat(result).isEqualTo(new Completed("int3"));
        }

        @Test
        void fetchesFromMemoryWhenTheReportedBytesStopShort() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f ae 54 24 08");
            memory.writeInt(STACK + 8, 0x1fa0);

            var result = fallback.complete(vcpu, memory, bytes("0f ae"));

            assertThat(result).isEqualTo(new Completed("ldmxcsr"));
            assertThat(vcpu.getFpu().mxcsr()).isEqualTo(0x1fa0);
        }

        @Test
        void ripWrapsAt4GiBOutside64BitMode() {
            RecordingVcpu vcpu = vcpuAt(0xffff_ffffL, CpuStates.protected32(0));

            var result = fallback.complete(vcpu, memory, bytes("cc"));

            assertThat(result).isEqualTo(new Completed("int3"));
            assertThat(vcpu.getRegisters().rip()).isZero();
        }

        @Test
        void aLockPrefixMakesItSomethingElse() {
            RecordingVcpu vcpu = longModeVcpuRunning("f0 cc");

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isInstanceOf(Unsupported.class);
            assertThat(vcpu.registerWrites()).isZero();
            assertThat(vcpu.pendingExceptions()).isEmpty();
        }
    }

    @Nested
    class Fwait {
        @Test
        void isANoOpWithoutAPendingX87Exception() {
            RecordingVcpu vcpu = longModeVcpuRunning("9b");

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("fwait"));
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE + 1);
            assertThat(vcpu.pendingExceptions()).isEmpty();
        }

        @Test
        void raisesMathFaultForAPendingUnmaskedException() {
            RecordingVcpu vcpu = longModeVcpuRunning("9b");
            FpuState fpu = FpuState.initial();
            int fswWithZeroDivideAndErrorSummary = 0x0084;
            vcpu.setFpu(new FpuState(fpu.fpr(), 0x37b, fswWithZeroDivideAndErrorSummary, 0, 0, 0, 0, fpu.xmm(), fpu.mxcsr()));

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("fwait"));
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE);
            assertThat(vcpu.pendingExceptions()).containsExactly(exception(16, -1));
        }

        @Test
        void raisesDeviceNotAvailableWhenTsAndMpAreSet() {
            SpecialRegisters sregs = CpuStates.longMode();
            memory.write(CODE, bytes("9b"));
            RecordingVcpu vcpu = vcpuAt(CODE, CpuStates.withCr0(sregs, sregs.cr0() | CpuStates.CR0_TS));

            fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE);
            assertThat(vcpu.pendingExceptions()).containsExactly(exception(7, -1));
        }
    }

    @Nested
    class Ldmxcsr {
        @Test
        void loadsFromRspPlus8AndAdvancesRip() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f ae 54 24 08");
            memory.writeInt(STACK + 8, 0x1fa0);

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("ldmxcsr"));
            assertThat(vcpu.getFpu().mxcsr()).isEqualTo(0x1fa0);
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE + 5);
            assertThat(vcpu.pendingExceptions()).isEmpty();
        }

        @Test
        void reservedBitsRaiseGeneralProtectionAndLeaveRipAndMxcsr() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f ae 54 24 08");
            memory.writeInt(STACK + 8, 0x1_1f80);

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("ldmxcsr"));
            assertThat(vcpu.pendingExceptions()).containsExactly(exception(13, 0));
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE);
            assertThat(vcpu.getFpu().mxcsr()).isEqualTo(0x1f80);
            assertThat(vcpu.fpuWrites()).isZero();
        }

        @Test
        void ripRelativeOperand() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f ae 15 10 00 00 00");
            memory.writeInt(CODE + 7 + 0x10, 0x9fc0);

            fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(vcpu.getFpu().mxcsr()).isEqualTo(0x9fc0);
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE + 7);
        }

        @Test
        void vexFormLoadsToo() {
            RecordingVcpu vcpu = longModeVcpuRunning("c5 f8 ae 54 24 04");
            memory.writeInt(STACK + 4, 0x1f81);

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("vldmxcsr"));
            assertThat(vcpu.getFpu().mxcsr()).isEqualTo(0x1f81);
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE + 6);
        }

        @Test
        void realModeUsesTheStackSegmentForBp() {
            memory.write(0x7c00, bytes("0f ae 56 fe")); // ldmxcsr [bp-2]
            Registers regs = new Registers(0, 0, 0, 0, 0, 0, 0, 0x100, 0, 0, 0, 0, 0, 0, 0, 0, 0x7c00, 2);
            RecordingVcpu vcpu = new RecordingVcpu(regs, CpuStates.realMode(0, 0x3000, 0x2000), RAM);
            memory.writeInt(0x20000 + 0xfe, 0x1fc0);

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("ldmxcsr"));
            assertThat(vcpu.getFpu().mxcsr()).isEqualTo(0x1fc0);
            assertThat(vcpu.getRegisters().rip()).isEqualTo(0x7c04);
        }

        @Test
        void operandSizePrefixIsNotLdmxcsr() {
            RecordingVcpu vcpu = longModeVcpuRunning("66 0f ae 14 24");

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isInstanceOfSatisfying(Unsupported.class,
                    u -> assertThat(u.description()).contains("66 0f ae 14 24", "opcode 66 0f ae /2"));
            assertThat(vcpu.fpuWrites()).isZero();
            assertThat(vcpu.registerWrites()).isZero();
        }

        @Test
        void taskSwitchedRaisesDeviceNotAvailable() {
            SpecialRegisters sregs = CpuStates.longMode();
            memory.write(CODE, bytes("0f ae 54 24 08"));
            RecordingVcpu vcpu = vcpuAt(CODE, CpuStates.withCr0(sregs, sregs.cr0() | CpuStates.CR0_TS));

            fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(vcpu.pendingExceptions()).containsExactly(exception(7, -1));
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE);
        }

        @Test
        void sseNotEnabledRaisesInvalidOpcode() {
            SpecialRegisters sregs = CpuStates.longMode();
            memory.write(CODE, bytes("0f ae 54 24 08"));
            RecordingVcpu vcpu = vcpuAt(CODE, CpuStates.withCr4(sregs, sregs.cr4() & ~CpuStates.CR4_OSFXSR));

            fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(vcpu.pendingExceptions()).containsExactly(exception(6, -1));
        }

        @Test
        void nonCanonicalAddressRaisesGeneralProtection() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f ae 10"); // ldmxcsr [rax]
            vcpu.setRegisters(withRax(vcpu.getRegisters(), 0x0000_8000_0000_0000L));

            fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(vcpu.pendingExceptions()).containsExactly(exception(13, 0));
        }

        @Test
        void unmappedOperandIsUnsupportedAndChangesNothing() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f ae 54 24 08").unmapPage(STACK);

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isInstanceOfSatisfying(Unsupported.class, u -> assertThat(u.description())
                    .contains("ldmxcsr", "0x200008 is not mapped", String.format("RIP 0x%x", CODE), "64-bit mode"));
            assertThat(vcpu.registerWrites()).isZero();
            assertThat(vcpu.fpuWrites()).isZero();
        }
    }

    @Nested
    class Stmxcsr {
        @Test
        void storesMxcsrAndAdvancesRip() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f ae 5c 24 fc");
            vcpu.setFpu(FpuState.initial().withMxcsr(0x1fa0));

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("stmxcsr"));
            assertThat(memory.readInt(STACK - 4)).isEqualTo(0x1fa0);
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE + 5);
        }

        @Test
        void vexFormStoresToo() {
            RecordingVcpu vcpu = longModeVcpuRunning("c5 f8 ae 5c 24 04");
            vcpu.setFpu(FpuState.initial().withMxcsr(0x9f80));

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("vstmxcsr"));
            assertThat(memory.readInt(STACK + 4)).isEqualTo(0x9f80);
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE + 6);
        }

        @Test
        void storeAcrossAPageBoundaryWritesBothPhysicalPages() {
            long linear = 0x40_0ffeL; // two bytes in one page, two in the next
            RecordingVcpu vcpu = longModeVcpuRunning("0f ae 18") // stmxcsr [rax]
                    .mapPage(0x40_0000, 0x50_0000)
                    .mapPage(0x40_1000, 0x30_0000);
            vcpu.setRegisters(withRax(vcpu.getRegisters(), linear));
            vcpu.setFpu(FpuState.initial().withMxcsr(0x1f80));
            memory.fill(0x50_0000, 0x2000, (byte) 0xff);
            memory.fill(0x30_0000, 0x1000, (byte) 0xff);

            fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(memory.readShort(0x50_0ffe)).isEqualTo((short) 0x1f80);
            assertThat(memory.readShort(0x30_0000)).isEqualTo((short) 0);
            assertThat(memory.readShort(0x50_1000)).as("the physically next page is not the linear next page")
                    .isEqualTo((short) -1);
            assertThat(vcpu.getRegisters().rip()).isEqualTo(CODE + 3);
        }
    }

    @Nested
    class InstructionFetch {
        @Test
        void anInstructionSplitAcrossPagesIsReadPageByPage() {
            long rip = 0xffff_ffff_8100_0ffeL;
            memory.write(0x60_0ffe, bytes("0f ae"));
            memory.write(0x70_0000, bytes("54 24 08"));
            RecordingVcpu vcpu = vcpuAt(rip, CpuStates.longMode())
                    .mapPage(rip, 0x60_0000)
                    .mapPage(rip + 2, 0x70_0000);
            memory.writeInt(STACK + 8, 0x1f90);

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("ldmxcsr"));
            assertThat(vcpu.getFpu().mxcsr()).isEqualTo(0x1f90);
            assertThat(vcpu.getRegisters().rip()).isEqualTo(rip + 5);
        }

        @Test
        void anInstructionRunningIntoAnUnmappedPageIsUnsupported() {
            long rip = 0x40_0ffeL;
            memory.write(rip, bytes("0f ae"));
            RecordingVcpu vcpu = vcpuAt(rip, CpuStates.longMode()).unmapPage(rip + 2);

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isInstanceOfSatisfying(Unsupported.class, u -> assertThat(u.description())
                    .contains("RIP 0x400ffe", "0x401000", "not mapped", "0f ae"));
            assertThat(vcpu.registerWrites()).isZero();
        }

        @Test
        void anUnmappedRipIsUnsupported() {
            RecordingVcpu vcpu = vcpuAt(0xffff_ffff_8100_0000L, CpuStates.longMode());

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isInstanceOfSatisfying(Unsupported.class, u -> assertThat(u.description())
                    .contains("RIP 0xffffffff81000000", "64-bit mode", "not mapped"));
            assertThat(vcpu.registerWrites()).isZero();
            assertThat(vcpu.pendingExceptions()).isEmpty();
        }

        @Test
        void realModeFetchesFromCsBase() {
            memory.write(0xf_0000 + 0x10, bytes("cc"));
            RecordingVcpu vcpu = new RecordingVcpu(Registers.initial(0x10), CpuStates.realMode(0xf000, 0, 0), RAM);

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Completed("int3"));
            assertThat(vcpu.getRegisters().rip()).isEqualTo(0x11);
        }
    }

    @Nested
    class OtherInstructions {
        @Test
        void ud2IsNamedWithItsRipAndMode() {
            long rip = 0xffff_ffff_8100_0010L;
            memory.write(0x60_0010, bytes("0f 0b"));
            RecordingVcpu vcpu = vcpuAt(rip, CpuStates.longMode()).mapPage(rip, 0x60_0000);

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isEqualTo(new Unsupported(
                    "cannot complete instruction 0f 0b (ud2) at RIP 0xffffffff81000010 in 64-bit mode: "
                            + "not an instruction jhyve completes"));
            assertThat(vcpu.registerWrites()).isZero();
            assertThat(vcpu.pendingExceptions()).isEmpty();
        }

        @Test
        void instructionsWithoutANameAreDescribedByOpcode() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f 38 f6 c1");

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isInstanceOfSatisfying(Unsupported.class,
                    u -> assertThat(u.description()).contains("0f 38 f6 c1 (opcode 0f 38 f6 /0)"));
        }

        @Test
        void knownTroublemakersAreNamed() {
            RecordingVcpu xrstor = longModeVcpuRunning("48 0f ae 2f");
            assertThat(fallback.complete(xrstor, memory, NOT_REPORTED).toString()).contains("(xrstor)");

            RecordingVcpu popcnt = longModeVcpuRunning("f3 48 0f b8 c1");
            assertThat(fallback.complete(popcnt, memory, NOT_REPORTED).toString()).contains("(popcnt)");

            RecordingVcpu clac = longModeVcpuRunning("0f 01 ca");
            assertThat(fallback.complete(clac, memory, NOT_REPORTED).toString()).contains("(clac)");

            RecordingVcpu cmpxchg16b = longModeVcpuRunning("f0 48 0f c7 0e");
            assertThat(fallback.complete(cmpxchg16b, memory, NOT_REPORTED).toString()).contains("(cmpxchg16b)");
        }

        @Test
        void undecodableBytesAreUnsupportedWithTheBytes() {
            RecordingVcpu vcpu = longModeVcpuRunning("0f 04");

            var result = fallback.complete(vcpu, memory, NOT_REPORTED);

            assertThat(result).isInstanceOfSatisfying(Unsupported.class, u -> assertThat(u.description())
                    .contains(String.format("RIP 0x%x", CODE), "0f 04", "undefined opcode", "64-bit mode"));
        }
    }
}

package org.jhyve.gdb;

import org.jhyve.hv.FpuState;
import org.jhyve.hv.Registers;
import org.jhyve.hv.SpecialRegisters;

/** One vCPU's registers as the stub reads and writes them: the hypervisor's three register sets. */
public record CpuState(Registers regs, SpecialRegisters sregs, FpuState fpu) {}

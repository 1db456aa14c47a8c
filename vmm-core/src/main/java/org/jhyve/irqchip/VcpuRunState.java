package org.jhyve.irqchip;

/** Where a vCPU of the userspace platform is, as its local APIC and HLT leave it. */
enum VcpuRunState {
    /** Running guest code. */
    RUNNING,
    /** Executed HLT: runs again when an interrupt it can take (or an NMI, INIT, SIPI) arrives. */
    HALTED,
    /** An application processor before its startup IPI, or any vCPU after an INIT. */
    WAITING_FOR_STARTUP
}

/* irq-test's first group: the BSP's local APIC as firmware-free software finds it, then enabled (irq-test.h). */
#include "irq-test.h"

void test_local_apic(void) {
    u64 base = rdmsr(MSR_APIC_BASE);
    /* After reset: base 0xfee00000, global enable (bit 11), the BSP flag (bit 8), x2APIC (bit 10) off. */
    check("apic-base-msr", (base & 0xfffffffffffff000ul) == 0xfee00000ul && (base & (1 << 11)) && (base & (1 << 8)) &&
                                   !(base & (1 << 10)),
          "want base 0xfee00000, enabled, BSP, xAPIC mode");

    u32 a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    check("cpuid-apic", (d >> 9) & 1, "CPUID.1:EDX.APIC is clear");
    check_value("apic-id-bsp", apic_read(APIC_ID) >> 24, 0);
    check_value("cpuid-initial-apic-id", b >> 24, 0);

    u32 version = apic_read(APIC_VERSION);
    u32 max_lvt = (version >> 16) & 0xff;
    info("apic-version");
    put_kv_hex("version", version);
    end_line();
    /* An integrated APIC is version 0x1X; the timer, LINT0/1, error and performance LVTs make at least 5. */
    check("apic-version", (version & 0xf0) == 0x10 && max_lvt >= 4, "want version 0x1X with at least 5 LVT entries");

    /* LINT0 masked: KVM starts the BSP's in ExtINT mode (virtual wire), and this program uses no PIC. */
    apic_write(APIC_LVT_LINT0, LVT_MASKED);
    apic_write(APIC_SVR, SVR_APIC_ENABLED | VEC_SPURIOUS);
    u32 svr = apic_read(APIC_SVR);
    check("apic-software-enable", (svr & SVR_APIC_ENABLED) && (svr & 0xff) == VEC_SPURIOUS, "SVR did not keep enable and vector");

    static const u32 priorities[] = {0x20, 0x5f, 0xf0, 0x00};
    int tpr_ok = 1, ppr_ok = 1;
    for (unsigned i = 0; i < sizeof priorities / sizeof priorities[0]; i++) {
        apic_write(APIC_TPR, priorities[i]);
        if ((apic_read(APIC_TPR) & 0xff) != priorities[i]) tpr_ok = 0;
        /* Nothing in service: the processor priority is the task priority (SDM 11.8.3.1). */
        if ((apic_read(APIC_PPR) & 0xff) != priorities[i]) ppr_ok = 0;
    }
    check("apic-tpr-reads-back", tpr_ok, "a TPR value did not read back");
    check("apic-ppr-follows-tpr", ppr_ok, "PPR differs from TPR with nothing in service");

    int isr_clear = 1, irr_clear = 1;
    for (u32 r = 0; r < 8; r++) {
        if (apic_read(APIC_ISR + 0x10 * r)) isr_clear = 0;
        if (apic_read(APIC_IRR + 0x10 * r)) irr_clear = 0;
    }
    check("apic-nothing-pending-at-start", isr_clear && irr_clear, "ISR or IRR has bits set");
}

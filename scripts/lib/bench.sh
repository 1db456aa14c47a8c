# Sourced by jhyve's Linux benchmarks (bench-boot, bench-blk, bench-net): what they give both VMMs alike.

# QEMU's CPU: qemu64 with jhyve's changes where QEMU can make them: Intel vendor, no CX16, no
# hypercall-based PV features (KVM ignores most CPUID masking on hosts without VMX/SVM).
BENCH_QEMU_CPU=qemu64,vendor=GenuineIntel,-cx16,-kvm-pv-unhalt,-kvm-pv-ipi,-kvm-pv-sched-yield

# bench_guest_params BASE: prints BASE plus, on hosts without VMX/SVM, the kernel parameters jhyve's
# `pvm` CPU template adds at the end of the command line (vmm-core CpuTemplate.PVM, which reads them from
# the same file), so that QEMU's guest gets the command line jhyve's does: give jhyve BASE and
# --cpu-template "$(bench_cpu_template)", and QEMU "$(bench_guest_params BASE)".
bench_guest_params() {
    local params=$1
    if ! bench_has_vmx_or_svm; then
        params="$params $(cat "${root:?}/vmm-core/src/main/resources/org/jhyve/cpu/pvm-kernel-parameters")"
    fi
    echo "$params"
}

# bench_cpu_template: the CPU template jhyve would choose here (pvm without VMX/SVM, else host), named
# on its command line so that it does not warn about the parameters it adds.
bench_cpu_template() {
    if bench_has_vmx_or_svm; then echo host; else echo pvm; fi
}

bench_has_vmx_or_svm() {
    grep -qwE 'vmx|svm' /proc/cpuinfo
}

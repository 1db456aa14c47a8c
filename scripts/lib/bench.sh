# Sourced by jhyve's Linux benchmarks (bench-boot, bench-blk, bench-net): what they give both VMMs alike.

# QEMU's CPU: qemu64 with jhyve's changes where QEMU can make them: Intel vendor, no CX16, no
# hypercall-based PV features (KVM ignores most CPUID masking on hosts without VMX/SVM).
BENCH_QEMU_CPU=qemu64,vendor=GenuineIntel,-cx16,-kvm-pv-unhalt,-kvm-pv-ipi,-kvm-pv-sched-yield

# bench_guest_params BASE: prints BASE plus, on hosts without VMX/SVM, the kernel parameters jhyve's
# `pvm` CPU template adds (vmm-core CpuTemplate.PVM, which reads them from the same file), spelled out so
# that QEMU's guest gets the same command line; jhyve then runs with --cpu-template host.
bench_guest_params() {
    local params=$1
    if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
        params="$params $(cat "${root:?}/vmm-core/src/main/resources/org/jhyve/cpu/pvm-kernel-parameters")"
    fi
    echo "$params"
}

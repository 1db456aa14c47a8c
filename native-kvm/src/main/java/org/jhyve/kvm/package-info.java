/**
 * The KVM backend of jhyve's hypervisor SPI, on Linux's {@code /dev/kvm}, through the FFM API only.
 *
 * <p>Three layers, as rust-vmm's kvm-ioctls has them:
 * <ol>
 *   <li>raw bindings: {@link org.jhyve.kvm.KvmAbi} (ioctl numbers, constants), {@link org.jhyve.kvm.KvmStructs}
 *       (the kernel's structs as {@link java.lang.foreign.StructLayout}s) and {@code HostCalls} (KVM's ioctls by
 *       name over jhyve's POSIX layer, {@code org.jhyve.posix}, which holds every libc binding);</li>
 *   <li>thin per-file-descriptor wrappers: {@link org.jhyve.kvm.KvmSystem} ({@code /dev/kvm}),
 *       {@link org.jhyve.kvm.KvmVm} (a VM fd) and {@link org.jhyve.kvm.KvmVcpu} (a vCPU fd and its
 *       {@code kvm_run} mapping), plus {@link org.jhyve.kvm.IoEventFd} and {@link org.jhyve.kvm.IrqFd};</li>
 *   <li>the SPI: {@link org.jhyve.kvm.KvmHypervisor}, with {@code KvmVm} and {@code KvmVcpu} implementing
 *       {@link org.jhyve.hv.HypervisorVm} and {@link org.jhyve.hv.Vcpu}.</li>
 * </ol>
 * Every failed system call becomes a {@link org.jhyve.hv.HypervisorException} naming the call and errno.
 */
package org.jhyve.kvm;

/** Linux KVM through the FFM API: {@code KvmHypervisor}, the hypervisor jhyve runs on Linux. */
module org.jhyve.kvm {
    requires transitive org.jhyve.core;
    requires org.jhyve.posix; // every libc call, KVM's ioctls included
    requires org.slf4j;

    exports org.jhyve.kvm;
}

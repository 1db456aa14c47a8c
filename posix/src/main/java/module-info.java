/**
 * jhyve's one binding to libc: every libc function jhyve calls, declared once (with the variadic ABI where C has
 * "..."), errno captured with each call and turned into {@link org.jhyve.posix.ErrnoException} in one place, and
 * eventfd. Internal to jhyve: exported only to the modules that make system calls, so an embedder never sees it.
 *
 * <p>The modules it is exported to are built after it, so javac cannot find them yet (lint "module").
 */
@SuppressWarnings("module")
module org.jhyve.posix {
    exports org.jhyve.posix to org.jhyve.kvm, org.jhyve.devices;
}

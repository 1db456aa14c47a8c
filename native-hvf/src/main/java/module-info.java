/** macOS Hypervisor.framework: a placeholder module until the backend is written (see package-info). */
module org.jhyve.hvf {
    requires transitive org.jhyve.core;
}

/** Boot loaders (bzImage, PVH vmlinux, ELF64 programs, boot sectors) and the tables firmware would build. */
module org.jhyve.firmware {
    requires transitive org.jhyve.core;
    requires org.slf4j;

    exports org.jhyve.firmware;
}

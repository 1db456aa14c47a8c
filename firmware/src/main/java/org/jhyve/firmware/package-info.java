/**
 * Loading guest images and the CPU state they start in.
 *
 * <p>{@link org.jhyve.firmware.KexecLoader} is xhyve's {@code -f kexec,KERNEL,INITRD,CMDLINE}: it reads the
 * image, recognises its format from the bytes ({@link org.jhyve.firmware.ImageFormat}), puts it in guest
 * memory and returns the boot vCPU's state. {@link org.jhyve.firmware.LongModeSetup} and
 * {@link org.jhyve.firmware.RealModeSetup} build that state; {@link org.jhyve.firmware.LowMemoryMap} says
 * where everything jhyve writes below 1 MiB goes.
 */
package org.jhyve.firmware;

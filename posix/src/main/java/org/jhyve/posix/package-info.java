/**
 * jhyve's one POSIX layer: every libc function jhyve calls, each declared once, errno captured with the call.
 *
 * <ul>
 *   <li>{@link org.jhyve.posix.Libc}: the raw file, memory and I/O calls and their constants; each returns the C
 *       result and leaves errno in a {@link org.jhyve.posix.Scratch}, the reusable native memory (errno and small
 *       structs) that keeps a call from allocating;</li>
 *   <li>{@link org.jhyve.posix.Posix}: the same calls checked, EINTR retried and EAGAIN returned as
 *       {@link org.jhyve.posix.Posix#WOULD_BLOCK};</li>
 *   <li>{@link org.jhyve.posix.Errno} and {@link org.jhyve.posix.ErrnoException}: the one mapping from errno to
 *       names, texts and exceptions;</li>
 *   <li>{@link org.jhyve.posix.EventFd}, {@link org.jhyve.posix.Terminal} (termios, ptys) and
 *       {@link org.jhyve.posix.Signals} (thread ids, tgkill, sigaction, the signal mask).</li>
 * </ul>
 * Numbers and layouts are Linux's (glibc, x86-64), the system jhyve runs on today; a port changes them here
 * and nowhere else. Internal to jhyve: exported only to native-kvm and devices.
 */
package org.jhyve.posix;

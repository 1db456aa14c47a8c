package org.jhyve.posix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The one errno mapping: names, texts, the message of a failed call, and the exception a checked call throws. */
class ErrnoTest {

    @Test
    void namesAndTextsComeFromLibc() {
        assertThat(Errno.name(Errno.EINVAL)).hasValue("EINVAL");
        assertThat(Errno.description(Errno.ENOENT)).isEqualTo("No such file or directory");
        assertThat(Errno.describe(Errno.EINVAL)).isEqualTo("EINVAL, Invalid argument");
        assertThat(Errno.describe(Errno.EBADFD)).isEqualTo("EBADFD, File descriptor in bad state");
    }

    @Test
    void anUnknownNumberIsStillSaid() {
        assertThat(Errno.name(4095)).isEmpty();
        assertThat(Errno.describe(4095)).isEqualTo("error 4095");
        assertThat(Errno.description(4095)).contains("4095");
    }

    @Test
    void theMessageNamesSubjectFunctionTextAndNumber() {
        assertThat(Errno.message("open", "disk.img", Errno.ENOENT)).isEqualTo("disk.img: open: No such file or directory (errno 2)");
        assertThat(Errno.message("read", null, Errno.EIO)).isEqualTo("read: Input/output error (errno 5)");
        ErrnoException e = new ErrnoException("pwritev", "a.img", Errno.ENOSPC);
        assertThat(e).isInstanceOf(IOException.class).hasMessage("a.img: pwritev: No space left on device (errno 28)");
        assertThat(e.errno()).isEqualTo(Errno.ENOSPC);
        assertThat(e.function()).isEqualTo("pwritev");
    }

    @Test
    void aFailedCheckedCallThrowsWithItsErrno() {
        assertThatThrownBy(() -> Posix.open("/nonexistent/jhyve", Libc.O_RDONLY))
                .isInstanceOf(ErrnoException.class)
                .hasMessage("/nonexistent/jhyve: open: No such file or directory (errno 2)")
                .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.ENOENT))
                .satisfies(e -> assertThat(((ErrnoException) e).function()).isEqualTo("open"));
        assertThatThrownBy(() -> Posix.close(-1)).isInstanceOf(ErrnoException.class)
                .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EBADF));
        assertThatThrownBy(() -> Posix.ioctl(-1, 0x541B, 0)).hasMessage("ioctl: Bad file descriptor (errno 9)");
        assertThat(Posix.closeQuietly(-1)).isEqualTo(Errno.EBADF);
    }

    @Test
    void theRawCallLeavesErrnoInTheScratch() {
        Scratch s = Scratch.allocate();
        assertThat(Libc.close(s, -1)).isEqualTo(-1);
        assertThat(s.errno()).isEqualTo(Errno.EBADF);
    }
}

/*
 * start-timer: the clock of scripts/bench-start. Starts COUNT copies of a VMM command at once, each with
 * its standard output on a pipe of its own and standard input on /dev/null, and times each from the
 * moment just before its fork to
 *   - "first": the first byte on its standard output (scripts/bench's start-probe guest writes that byte
 *     to COM1 with its first port write, so this is process start to the guest's first instruction plus
 *     the VMM's path from that exit to write(2): the same path for every VMM measured);
 *   - "ready": the guest's third line ("start-probe: ready"), its last;
 *   - "exit": the process's exit (mode exit), or, in mode stay (the guest halts instead of powering
 *     off), the moment its memory is read: SETTLE_MS after every copy is ready, from /proc/PID/status
 *     (VmRSS, VmHWM) and /proc/PID/smaps (the guest RAM mapping: an anonymous mapping of RAM_MIB MiB, or
 *     up to 4 MiB more for a VMM that pads it, or that the kernel merged with a neighbour), Pss and
 *     the private pages from /proc/PID/smaps_rollup; then the copies are killed. A copy that is no longer
 *     running then (its guest was interrupted and triple-faulted) reads -1 and fails the run.
 * In mode exit the peak RSS is wait4's ru_maxrss.
 *
 * usage: start-timer exit|stay COUNT RAM_MIB SETTLE_MS -- COMMAND ARGS...
 * Prints one line per copy: "copy=I first_us=.. ready_us=.. exit_us=.. status=.. peak_kib=.. rss_kib=..
 * guest_kib=.. pss_kib=.. private_kib=.." (the memory fields in mode stay, -1 in mode exit; peak_kib in
 * both), then "total first_us=MAX ready_us=MAX", counted from the first fork.
 * Exit status 0 when every copy printed the ready line (and in mode exit, exited with status 1: the
 * guest's power-off), 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COPIES 64
#define READY_LINE "start-probe: ready\n"
#define TIMEOUT_MS 60000

struct copy {
    pid_t pid;
    int out;                 /* read end of its stdout pipe, -1 once closed */
    long long start, first, ready, end;
    int status;
    long peak_kib, rss_kib, guest_kib, pss_kib, private_kib;
    char tail[64];           /* the last bytes seen, to spot the ready line across reads */
    size_t tail_len;
};

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static void die(const char *what) {
    fprintf(stderr, "start-timer: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void start(struct copy *c, char **argv) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
    c->start = now_us();
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(p[1], 1) < 0) _exit(126);
        execvp(argv[0], argv);
        fprintf(stderr, "start-timer: %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    c->pid = pid;
    c->out = p[0];
}

/* Reads what copy c wrote; notes the first byte and the ready line. Returns 0 at end of file. */
static int drain(struct copy *c) {
    char buf[4096];
    ssize_t n = read(c->out, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return 1;
    if (n <= 0) { close(c->out); c->out = -1; return 0; }
    long long t = now_us();
    if (!c->first) c->first = t;
    for (ssize_t i = 0; i < n; i++) {
        if (c->tail_len == sizeof c->tail) {
            memmove(c->tail, c->tail + 1, sizeof c->tail - 1);
            c->tail_len--;
        }
        c->tail[c->tail_len++] = buf[i];
        size_t r = strlen(READY_LINE);
        if (!c->ready && c->tail_len >= r && memcmp(c->tail + c->tail_len - r, READY_LINE, r) == 0) c->ready = t;
    }
    return 1;
}

/* A "Field:   N kB" line of /proc/PID/FILE (status, smaps_rollup), in KiB; -1 when unreadable. */
static long proc_kib(pid_t pid, const char *file, const char *field) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (!f) return -1;
    size_t len = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, len) == 0 && line[len] == ':') { v = atol(line + len + 1); break; }
    fclose(f);
    return v;
}

/* Rss of the guest RAM: the anonymous mapping (no path) of ram_kib to ram_kib + 4 MiB, the largest
 * such if several. */
static long guest_ram_kib(pid_t pid, long ram_kib) {
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/smaps", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long best_size = 0, best_rss = -1, size = 0;
    int anonymous = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char name[256] = "";
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &lo, &hi, name) >= 2 && strchr(line, '-') < strchr(line, ' ')) {
            size = (long) ((hi - lo) / 1024);
            anonymous = name[0] == 0;
        } else if (strncmp(line, "Rss:", 4) == 0 && anonymous && size >= ram_kib && size <= ram_kib + 4096 && size > best_size) {
            best_size = size;
            best_rss = atol(line + 4);
        }
    }
    fclose(f);
    return best_rss;
}

int main(int argc, char **argv) {
    if (argc < 7 || strcmp(argv[5], "--") != 0 || (strcmp(argv[1], "exit") && strcmp(argv[1], "stay"))) {
        fprintf(stderr, "usage: start-timer exit|stay COUNT RAM_MIB SETTLE_MS -- COMMAND ARGS...\n");
        return 2;
    }
    int stay = strcmp(argv[1], "stay") == 0;
    int count = atoi(argv[2]);
    long ram_kib = atol(argv[3]) * 1024;
    int settle_ms = atoi(argv[4]);
    if (count < 1 || count > MAX_COPIES) { fprintf(stderr, "start-timer: COUNT must be 1-%d\n", MAX_COPIES); return 2; }
    signal(SIGPIPE, SIG_IGN);
    static struct copy copies[MAX_COPIES];
    long long begin = now_us();
    for (int i = 0; i < count; i++) start(&copies[i], argv + 6);

    /* Read every pipe until each copy is ready (stay) or has closed its output (exit). */
    for (;;) {
        struct pollfd fds[MAX_COPIES];
        int map[MAX_COPIES], n = 0, pending = 0;
        for (int i = 0; i < count; i++) {
            if (copies[i].out < 0) continue;
            if (stay && copies[i].ready) continue;
            fds[n].fd = copies[i].out;
            fds[n].events = POLLIN;
            map[n++] = i;
            pending++;
        }
        if (!pending) break;
        if (now_us() - begin > TIMEOUT_MS * 1000LL) { fprintf(stderr, "start-timer: timed out\n"); break; }
        int r = poll(fds, n, 1000);
        if (r < 0 && errno != EINTR) die("poll");
        for (int k = 0; k < n; k++)
            if (fds[k].revents) drain(&copies[map[k]]);
    }
    if (stay) {
        usleep(settle_ms * 1000);
        for (int i = 0; i < count; i++) {
            struct copy *c = &copies[i];
            c->end = now_us();
            c->rss_kib = proc_kib(c->pid, "status", "VmRSS");
            c->peak_kib = proc_kib(c->pid, "status", "VmHWM");
            c->guest_kib = guest_ram_kib(c->pid, ram_kib);
            c->pss_kib = proc_kib(c->pid, "smaps_rollup", "Pss");
            c->private_kib = proc_kib(c->pid, "smaps_rollup", "Private_Clean") + proc_kib(c->pid, "smaps_rollup", "Private_Dirty");
            kill(c->pid, SIGKILL);
        }
    }
    int ok = 1;
    for (int i = 0; i < count; i++) {
        struct copy *c = &copies[i];
        struct rusage ru;
        int st;
        while (wait4(c->pid, &st, 0, &ru) < 0)
            if (errno != EINTR) die("wait4");
        if (!stay) {
            c->end = now_us();
            c->peak_kib = ru.ru_maxrss;
            c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            if (c->status != 1) ok = 0;
        } else {
            c->status = -1;
            if (c->rss_kib < 0 || c->guest_kib < 0) ok = 0;
        }
        if (c->out >= 0) close(c->out);
        if (!c->ready) ok = 0;
    }
    long long max_first = 0, max_ready = 0;
    for (int i = 0; i < count; i++) {
        struct copy *c = &copies[i];
        long long first = c->first ? c->first - c->start : -1, ready = c->ready ? c->ready - c->start : -1;
        printf("copy=%d first_us=%lld ready_us=%lld exit_us=%lld status=%d peak_kib=%ld rss_kib=%ld guest_kib=%ld pss_kib=%ld private_kib=%ld\n",
               i, first, ready, c->end - c->start, c->status, c->peak_kib, stay ? c->rss_kib : -1, stay ? c->guest_kib : -1,
               stay ? c->pss_kib : -1, stay ? c->private_kib : -1);
        /* The copies' totals count from the first fork: the last copy's first byte is when all had one. */
        if (c->first && c->first - begin > max_first) max_first = c->first - begin;
        if (c->ready && c->ready - begin > max_ready) max_ready = c->ready - begin;
    }
    printf("total first_us=%lld ready_us=%lld\n", max_first, max_ready);
    return ok ? 0 : 1;
}

/* QEMU TCG plugin (plugin API version 1, as in Debian 12's QEMU 7.2): counts how often each
 * translated block at a kernel address (>= 0xffff800000000000) runs, until the first
 * instruction of busybox's text (0x400000-0x600000, the static Debian binary), and writes
 * "vaddr insns execs_before_user execs_total" lines at exit to out=FILE. QEMU ships no
 * qemu-plugin.h in Debian, so the few declarations needed are written out here.
 * Used by run.sh; see docs/guest-kernel.md. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <stddef.h>
typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb; typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
typedef void (*tb_trans_cb)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*vcpu_udata_cb)(unsigned int, void *);
typedef void (*udata_cb)(qemu_plugin_id_t, void *);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, tb_trans_cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, enum qemu_plugin_op, void *, uint64_t);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *, vcpu_udata_cb, enum qemu_plugin_cb_flags, void *);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, udata_cb, void *);
__attribute__((visibility("default"))) int qemu_plugin_version = 1;
struct ent { uint64_t va, n, execs, frozen; struct ent *next; };
static struct ent *all; static volatile bool user_seen; static const char *path = "/tmp/prof.txt";
static void first_user(unsigned int v, void *u) {
    if (user_seen) return; user_seen = true;
    for (struct ent *e = all; e; e = e->next) e->frozen = e->execs;
}
static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    uint64_t va = qemu_plugin_tb_vaddr(tb);
    if (va >= 0xffff800000000000ull) {
        struct ent *e = calloc(1, sizeof *e); e->va = va; e->n = qemu_plugin_tb_n_insns(tb);
        e->next = all; all = e;
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &e->execs, 1);
    } else if (!user_seen && va >= 0x400000 && va < 0x600000) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, first_user, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
}
static void at_exit(qemu_plugin_id_t id, void *u) {
    FILE *f = fopen(path, "w");
    for (struct ent *e = all; e; e = e->next)
        fprintf(f, "%llx %llu %llu %llu\n", (unsigned long long)e->va, (unsigned long long)e->n,
                (unsigned long long)(user_seen ? e->frozen : e->execs), (unsigned long long)e->execs);
    fclose(f);
}
__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    for (int i = 0; i < argc; i++) if (!strncmp(argv[i], "out=", 4)) path = argv[i] + 4;
    qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}

#!/usr/bin/env bash
# Counts the guest-kernel instructions a boot executes before userspace starts, under
# QEMU's TCG (no KVM), and names the functions they go to. On PVM KVM each kernel
# instruction is emulated (~0.5-0.9 us), so this count predicts jhyve's boot time.
# Usage: firmware/guest-kernel/tcg-profile/run.sh [KERNEL_DIR [INITRD [TOP]]] [-- EXTRA_CMDLINE]
#   KERNEL_DIR: from scripts/build-guest-kernel (default: build it), INITRD: from
#   scripts/make-initrd (default: make it), TOP: functions listed (default 40).
# Env: JHYVE_QEMU_CPU (default qemu64,vendor=GenuineIntel,+erms,+fsrm: the string
#      features the kernel sees on the PVM hosts), JHYVE_QEMU_MEM (default 256).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
args=(); extra=""
while [ $# -gt 0 ]; do [ "$1" = -- ] && { shift; extra="$*"; break; }; args+=("$1"); shift; done
kdir=${args[0]:-$("$repo/scripts/build-guest-kernel" | tail -1)}
initrd=${args[1]:-$("$repo/scripts/make-initrd" | tail -1)}
top=${args[2]:-40}
command -v qemu-system-x86_64 >/dev/null || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 >&2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
gcc -O2 -shared -fPIC -o "$work/kprof.so" "$here/kprof.c" -Wl,--unresolved-symbols=ignore-all
timeout 600 qemu-system-x86_64 -accel tcg,thread=single -plugin "$work/kprof.so,out=$work/prof.txt" \
    -M q35 -cpu "${JHYVE_QEMU_CPU:-qemu64,vendor=GenuineIntel,+erms,+fsrm}" -m "${JHYVE_QEMU_MEM:-256}" -smp 1 \
    -nographic -no-reboot -kernel "$kdir/vmlinux" -initrd "$initrd" \
    -append "console=ttyS0 $extra jhyve.run=true" > "$work/console.txt" 2>&1 || true
grep -q "jhyve-init: userspace is up" "$work/console.txt" || { tail -30 "$work/console.txt" >&2; echo "run.sh: the guest did not reach userspace" >&2; exit 1; }
python3 "$here/report.py" "$kdir/System.map" "$work/prof.txt" "$top"

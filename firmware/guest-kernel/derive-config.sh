#!/usr/bin/env bash
# Regenerates jhyve-6.1.config from `make ARCH=x86_64 tinyconfig` + jhyve.fragment.
# Usage: firmware/guest-kernel/derive-config.sh LINUX_SRC_DIR
#   LINUX_SRC_DIR: an unpacked /usr/src/linux-source-6.1.tar.xz (scripts/build-guest-kernel
#   leaves one under ${JHYVE_CACHE:-$HOME/.cache/jhyve}/guest-kernel/src/).
# Writes the result over jhyve-6.1.config next to this script and prints what the
# fragment asked for that the result does not have (olddefconfig drops options whose
# dependencies are unmet). Review the diff before committing it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: $0 LINUX_SRC_DIR}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
make -s -C "$src" O="$out" ARCH=x86_64 tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$here/jhyve.fragment" >&2
make -s -C "$src" O="$out" ARCH=x86_64 olddefconfig >&2
# Keep the file free of the build machine's compiler details: olddefconfig on the
# build machine fills them in again.
sed -E '/^CONFIG_(CC_VERSION_TEXT|GCC_VERSION|CLANG_VERSION|AS_IS_|AS_VERSION|LD_IS_|LD_VERSION|LLD_VERSION|PAHOLE_VERSION)/d' \
    "$out/.config" > "$here/jhyve-6.1.config"
# Report fragment lines the result does not honour.
missing=0
while IFS= read -r line; do
    case $line in
        CONFIG_*=*) sym=${line%%=*}
            grep -qxF -- "$line" "$out/.config" || { echo "not honoured: $line (got: $(grep -E "^(# )?$sym[= ]" "$out/.config" || echo absent))"; missing=1; } ;;
        "# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}
            ! grep -qE "^$sym=" "$out/.config" || { echo "not honoured: $line (got: $(grep -E "^$sym=" "$out/.config"))"; missing=1; } ;;
    esac
done < "$here/jhyve.fragment"
[ $missing = 0 ] && echo "every fragment line honoured" >&2
exit 0

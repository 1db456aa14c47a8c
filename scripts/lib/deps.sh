# Sourced by jhyve's scripts: installs missing host tools from Debian's packages when running as root.
# jhyve_need COMMAND PACKAGE: ensure COMMAND exists, installing PACKAGE if we may.

jhyve_apt_updated=""
jhyve_need() {
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "jhyve: '$cmd' is missing: install the Debian package '$pkg'" >&2
        return 1
    fi
    echo "jhyve: installing $pkg (for $cmd)" >&2
    if [ -z "$jhyve_apt_updated" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
        jhyve_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2
}

# The tools every build needs: Maven, and make + gcc + binutils for the guest programs.
jhyve_build_deps() {
    jhyve_need mvn maven && jhyve_need make make && jhyve_need cc gcc && jhyve_need as binutils && jhyve_need ld binutils &&
        jhyve_need objcopy binutils
}

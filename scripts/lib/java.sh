# Sourced by jhyve's scripts: finds a JDK 22+ (FFM is final from 22; jhyve is built for 25)
# and sets JAVA_HOME and PATH to it. JAVA_HOME wins when it is new enough, then the newest
# JDK under /usr/lib/jvm (Debian's and Temurin's place).

jhyve_java_feature() { # prints the feature version (17, 25...) of the JDK at $1, or nothing
    local release="$1/release" v
    [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
    if [ -f "$release" ]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
    else
        v=$("$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
    fi
    echo "$v"
}

jhyve_find_java() {
    local min=${1:-25} best="" best_v=0 d v
    if [ -n "${JAVA_HOME:-}" ]; then
        v=$(jhyve_java_feature "$JAVA_HOME")
        if [ -n "$v" ] && [ "$v" -ge "$min" ]; then best=$JAVA_HOME; best_v=$v; fi
    fi
    if [ -z "$best" ]; then
        for d in /usr/lib/jvm/*; do
            [ -d "$d" ] && [ ! -L "$d" ] || continue
            v=$(jhyve_java_feature "$d")
            if [ -n "$v" ] && [ "$v" -ge "$min" ] && [ "$v" -gt "$best_v" ]; then best=$d; best_v=$v; fi
        done
    fi
    if [ -z "$best" ]; then
        echo "jhyve: no JDK $min or newer found (set JAVA_HOME, or install one under /usr/lib/jvm)" >&2
        return 1
    fi
    export JAVA_HOME=$best
    export PATH="$JAVA_HOME/bin:$PATH"
}

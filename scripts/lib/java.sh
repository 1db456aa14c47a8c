# Sourced by jhyve's scripts: finds a JDK 22+ (FFM is final from 22; jhyve is built for 25)
# and sets JAVA_HOME and PATH to it. JAVA_HOME wins when it is new enough, then the newest
# JDK under /usr/lib/jvm (Debian's and Temurin's place).

jhyve_java_feature() { # prints the feature version (17, 25...) of the JDK at $1, or nothing
    local release="$1/release" v
    [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
    if [ -f "$release" ]; then
        # Read with builtins: the launcher runs this on every start, and each process costs milliseconds.
        local line
        while IFS= read -r line; do
            if [[ $line =~ ^JAVA_VERSION=\"([0-9]+) ]]; then v=${BASH_REMATCH[1]}; break; fi
        done <"$release"
    else
        v=$("$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
    fi
    echo "${v:-}"
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

# JVM settings chosen for a VMM (docs/performance.md#start-up-and-memory has the measurements): the serial
# collector (one GC thread, no concurrent ones; jhyve's heap is small and guest RAM is outside it), a
# starting heap of 16 MiB so that the young generation, which the JVM touches page by page until its first
# collection, stays small (the heap still grows to the JVM's usual limit when a guest's devices need it),
# glibc's free memory given back every second (the JIT's arenas otherwise stay resident), code cache and
# metaspace bounded, and the JVM's own messages on stderr, never on the stdout a guest's console may own.
# JHYVE_JAVA_OPTS (space-separated) comes after these, so any of them can be overridden.
JHYVE_JVM_SETTINGS=(-XX:+UseSerialGC -Xms16m -XX:TrimNativeHeapInterval=1000 -XX:ReservedCodeCacheSize=64m
    -XX:MaxMetaspaceSize=256m -XX:+DisplayVMOutputToStderr)

# Sets JHYVE_JAVA_OPTS_RESOLVED, the JVM options jhyve runs with for the jar $1: native access, the settings
# above, the user's JHYVE_JAVA_OPTS, and the ahead-of-time cache of the jar (JDK 25, JEP 483/514: the
# classes a run loaded, loaded and linked ahead of time) when one has been made. Benchmarks use this
# as it is; the jhyve command (scripts/jhyve) also makes the cache, through jhyve_aot_maintain. JHYVE_AOT=0
# turns the cache off.
jhyve_java_opts() {
    local jar=$1
    # shellcheck disable=SC2206 # word splitting is how JHYVE_JAVA_OPTS carries several options
    local user=(${JHYVE_JAVA_OPTS:-})
    JHYVE_JAVA_OPTS_RESOLVED=(--enable-native-access=ALL-UNNAMED "${JHYVE_JVM_SETTINGS[@]}" "${user[@]}")
    JHYVE_AOT_DIR=
    jhyve_aot_paths "$jar" || return 0
    if [ -f "$JHYVE_AOT_CACHE" ]; then
        local made=""
        [ -f "$JHYVE_AOT_CACHE.size" ] && made=$(<"$JHYVE_AOT_CACHE.size")
        if [ "$(stat -c %s "$JHYVE_AOT_CACHE")" = "$made" ]; then
            JHYVE_JAVA_OPTS_RESOLVED+=(-XX:AOTCache="$JHYVE_AOT_CACHE" -Xlog:aot=off -Xlog:cds=off)
        else
            echo "jhyve: ignoring the AOT cache $JHYVE_AOT_CACHE: it is not the size it was made with; it is made again" >&2
            rm -f "$JHYVE_AOT_CACHE" "$JHYVE_AOT_CACHE.size" "$JHYVE_AOT_CONFIG"
        fi
    fi
}

# How the cache is recorded: classes loaded and linked (JEP 483), not method profiles (JEP 515): with
# profiles the JIT compiles with C2 from the first milliseconds, and on a 2-core host those compilations take
# the core the start needs (measured: 430 ms to the guest's first instruction with them, 327-344 ms
# without, medians of 12 interleaved runs). A diagnostic flag, so it is unlocked for the recording only.
JHYVE_AOT_RECORD=(-XX:AOTMode=record -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining -Xlog:aot=off -Xlog:cds=off)

# jhyve_aot_paths JAR (from jhyve_java_opts): sets JHYVE_AOT_DIR, JHYVE_AOT_CACHE (the cache file), JHYVE_AOT_CONFIG (the recorded
# configuration it is made from) and JHYVE_AOT_LOCK; returns 1 when there is no cache here (JHYVE_AOT=0,
# or no writable cache directory). The name is keyed by what the JVM checks a cache against, so a jar or
# JDK that changes gets a cache of its own: the jar's path, size and modification time, the JDK's release
# file and the JVM options.
jhyve_aot_paths() {
    local jar=$1 path id
    [ "${JHYVE_AOT:-1}" != 0 ] || return 1
    JHYVE_AOT_DIR="${JHYVE_CACHE:-$HOME/.cache/jhyve}/aot"
    [ -d "$JHYVE_AOT_DIR" ] || mkdir -p "$JHYVE_AOT_DIR" 2>/dev/null || return 1
    [ -w "$JHYVE_AOT_DIR" ] || return 1
    path=$(readlink -f "$jar")
    local release=""
    [ -f "$JAVA_HOME/release" ] && release=$(<"$JAVA_HOME/release")
    id=$(printf '%s\n' "$(stat -c '%s %Y' "$path")" "$release" "${JHYVE_JAVA_OPTS_RESOLVED[*]}" | sha256sum)
    # The jar's path as the stem (a cache per jar, the older ones removed when a new one is made), the
    # rest hashed.
    JHYVE_AOT_STEM="$JHYVE_AOT_DIR/jhyve${path//[^A-Za-z0-9._-]/_}"
    id=${id:0:16}
    JHYVE_AOT_CACHE="$JHYVE_AOT_STEM-$id.aot"
    JHYVE_AOT_CONFIG="$JHYVE_AOT_STEM-$id.aotconf"
    JHYVE_AOT_LOCK="$JHYVE_AOT_STEM.lock"
}

# jhyve_aot_maintain JAR ARGS...: the jhyve command's part in making the cache, in three runs. While there
# is no cache and no configuration, the first run that boots a VM (ARGS has -f) records one
# (-XX:AOTMode=record: the classes it loaded, written at its exit, about 2 s there, once, with one line
# on stderr); the next run makes the cache from it in the background (-XX:AOTMode=create, about 2 s of one
# core) while it runs without; the runs after that use it. One lock file keeps concurrent starts (20 VMs at
# once) from recording or making it twice: the recording JVM holds it, inherited, until it exits. Adds the
# recording's options to JHYVE_JAVA_OPTS_RESOLVED when this run records. Call after jhyve_java_opts.
jhyve_aot_maintain() {
    local jar=$1
    shift
    [ -n "${JHYVE_AOT_DIR:-}" ] && [ ! -f "$JHYVE_AOT_CACHE" ] || return 0
    command -v flock >/dev/null || return 0
    exec {JHYVE_AOT_LOCK_FD}>>"$JHYVE_AOT_LOCK"
    if ! flock -n "$JHYVE_AOT_LOCK_FD"; then
        exec {JHYVE_AOT_LOCK_FD}>&-
        return 0
    fi
    if [ -f "$JHYVE_AOT_CONFIG" ]; then
        # Made by a process of its own, detached, holding the lock; this run goes on without the cache.
        ( jhyve_aot_create "$jar" || true ) </dev/null >/dev/null 2>&1 &
        exec {JHYVE_AOT_LOCK_FD}>&-
        return 0
    fi
    local a
    for a in "$@"; do
        if [ "$a" = -f ] || [[ "$a" == -f?* ]]; then
            JHYVE_JAVA_OPTS_RESOLVED+=("${JHYVE_AOT_RECORD[@]}" -XX:AOTConfiguration="$JHYVE_AOT_CONFIG")
            return 0   # the lock stays open: java inherits it and holds it until it exits
        fi
    done
    exec {JHYVE_AOT_LOCK_FD}>&-
}

# jhyve_aot_create JAR: makes the cache from the recorded configuration (-XX:AOTMode=create) in a file of
# its own, then puts it in place with its size beside it (what jhyve_java_opts checks) and removes the
# jar's older caches; the JVM's output goes to JHYVE_AOT_STEM.log, kept when it fails. The configuration is
# removed either way: a broken one is recorded again. Returns 1 when no cache was made.
jhyve_aot_create() {
    local jar=$1 tmp="$JHYVE_AOT_CACHE.tmp.$$" log="$JHYVE_AOT_STEM.log" old made=1
    if "$JAVA_HOME/bin/java" "${JHYVE_JAVA_OPTS_RESOLVED[@]}" -XX:AOTMode=create -XX:AOTConfiguration="$JHYVE_AOT_CONFIG" \
            -XX:AOTCache="$tmp" -jar "$jar" </dev/null >"$log" 2>&1 && [ -s "$tmp" ] \
            && stat -c %s "$tmp" >"$JHYVE_AOT_CACHE.size" && mv -f "$tmp" "$JHYVE_AOT_CACHE"; then
        made=0
        rm -f "$log"
        for old in "$JHYVE_AOT_STEM"-*.aot; do [ "$old" = "$JHYVE_AOT_CACHE" ] || rm -f "$old" "$old.size"; done
    fi
    rm -f "$tmp" "$JHYVE_AOT_STEM"-*.aotconf
    return "$made"
}

# jhyve_aot_make JAR ARGS...: makes the AOT cache of JAR at once, for benchmarks (scripts/bench-start,
# bench-boot): records a run of jhyve with ARGS (its output discarded) and makes the cache from it, then
# sets JHYVE_JAVA_OPTS_RESOLVED again so that it is used. Returns 1 (and says why) when it could not.
jhyve_aot_make() {
    local jar=$1
    shift
    jhyve_java_opts "$jar"
    [ -n "${JHYVE_AOT_DIR:-}" ] || { echo "jhyve: no AOT cache directory (JHYVE_AOT=0 or ${JHYVE_CACHE:-$HOME/.cache/jhyve} not writable)" >&2; return 1; }
    [ -f "$JHYVE_AOT_CACHE" ] && return 0
    "$JAVA_HOME/bin/java" "${JHYVE_JAVA_OPTS_RESOLVED[@]}" "${JHYVE_AOT_RECORD[@]}" -XX:AOTConfiguration="$JHYVE_AOT_CONFIG" \
        -jar "$jar" "$@" </dev/null >/dev/null 2>&1 || true
    jhyve_aot_create "$jar" || echo "jhyve: could not make the AOT cache $JHYVE_AOT_CACHE (see $JHYVE_AOT_STEM.log)" >&2
    jhyve_java_opts "$jar"
    [ -f "$JHYVE_AOT_CACHE" ]
}

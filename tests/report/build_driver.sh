#!/bin/sh
# build_driver.sh OUT [BUILD]: builds tests/report/json_driver.c (JSON-lines sink over the pipeline) against BUILD's objects; CC, CFLAGS apply.
out=$1
build=${2:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "$out" ] || { echo "usage: build_driver.sh OUT [BUILD]" >&2; exit 64; }
case $build in /*) ;; *) build=$root/$build ;; esac
cc=${CC:-cc}
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wvla -Wshadow -Wformat=2 -O1 -g -pthread"
pkgs="libpcap sqlite3 libndpi"
cflags=$(pkg-config --cflags $pkgs 2>/dev/null)
libs=$(pkg-config --libs $pkgs 2>/dev/null || echo -lpcap -lsqlite3 -lndpi -lm)
objs=$(ls "$build"/capture/*.o "$build"/dissect/*.o "$build"/store/*.o "$build"/cli/pipeline.o 2>/dev/null)
[ -n "$objs" ] || { echo "build_driver.sh: no objects in $build (run make first)" >&2; exit 2; }
# json_output.o from the build when the Makefile already compiles it, else from the source.
if [ -f "$build/cli/json_output.o" ]; then
    jo=$build/cli/json_output.o
else
    jo=$root/cli/json_output.c
fi
cd "$root" && $cc $flags ${CFLAGS:-} -I. $cflags -o "$out" tests/report/json_driver.c "$jo" $objs $libs -lgcrypt -lm

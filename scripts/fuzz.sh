#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/<target>.swift over the FuzzTargets library, all
# instrumented with -sanitize=fuzzer) and runs each for FUZZ_SECONDS (default 600).
# Corpora live in .build-fuzz/corpus/<target> (seeded from Tests/FuzzTests/Regressions and
# generated seeds); a crash input is written to .build-fuzz/crashes/<target>/ and the run
# fails: copy it into Tests/FuzzTests/Regressions/<target>/ as a regression test once fixed.
# Usage: scripts/fuzz.sh [target ...]   (targets: lines tfrecord artifact)
# FUZZ_CI=1 (what `make test` sets): a fixed seed and a fixed number of runs per target instead of
# a time budget, so a CI run explores close to what the same run explored on the author's machine
# (not exactly: two fresh runs ended with corpora of 631 and 642 inputs); open-ended exploration
# is `make fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${FUZZ_SECONDS:-600}"
BUILD=.build-fuzz
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(lines tfrecord artifact)

swift build -c release --build-path "$BUILD" --target FuzzTargets -Xswiftc -sanitize=fuzzer >&2
products="$BUILD/release"
# The objects of FuzzTargets and every module it depends on (all instrumented): only those of
# the module's current sources (SwiftPM's `sources` list), as a build folder keeps the objects
# of files that were moved or deleted since, which would link stale code.
modules="Support Artifacts LinearAlgebra Contracts Distributed Ingestion Interactions Graphs GCMLShim MPIShim SwiftProtobuf FuzzTargets"
objects=$(for module in $modules; do
  folder="$products/$module.build"
  [ -d "$folder" ] || continue
  if [ -f "$folder/sources" ]; then
    while read -r source; do echo "$folder/$(basename "$source").o"; done < "$folder/sources"
  else
    for source in Sources/"$module"/*.c; do echo "$folder/$(basename "$source").o"; done
  fi
done)
libs=$(pkg-config --libs hdf5 libzstd zlib openblas ompi-c)
# The C modules the Swift modules import, as SwiftPM passes them.
cmodules="-Xcc -fmodule-map-file=Sources/CHDF5/module.modulemap -Xcc -fmodule-map-file=Sources/CZstd/module.modulemap \
  -Xcc -fmodule-map-file=Sources/COpenBLAS/module.modulemap -Xcc -fmodule-map-file=Sources/CZlib/module.modulemap \
  -Xcc -fmodule-map-file=Sources/CMPI/module.modulemap -Xcc -fmodule-map-file=$products/MPIShim.build/module.modulemap \
  -Xcc -ISources/MPIShim/include \
  -Xcc -fmodule-map-file=$products/GCMLShim.build/module.modulemap -Xcc -ISources/GCMLShim/include \
  $(pkg-config --cflags-only-I hdf5 openblas ompi-c | sed 's/-I/-Xcc -I/g')"
mkdir -p "$BUILD/bin"
for target in "${TARGETS[@]}"; do
  swiftc -O -sanitize=fuzzer -parse-as-library -module-name "fuzz_$target" "fuzz/$target.swift" \
    -I "$products/Modules" $cmodules $objects $libs -o "$BUILD/bin/fuzz-$target" >&2
done

# Seeds: the regression inputs plus generated valid inputs (tiny sessions, TFRecords, artifacts).
for target in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$target"
  mkdir -p "$corpus" "$BUILD/crashes/$target"
  cp -n Tests/FuzzTests/Regressions/"$target"/* "$corpus"/ 2>/dev/null || true
  python3 scripts/fuzz-seeds.py "$target" "$corpus"
  if [ "${FUZZ_CI:-0}" = 1 ]; then
    # 7–16 s each on a quiet 2-core machine (lines ~85 000 exec/s, tfrecord ~2 500, artifact ~1 250).
    case "$target" in lines) runs=600000 ;; tfrecord) runs=40000 ;; *) runs=15000 ;; esac
    budget=(-runs="$runs" -seed=1)
    echo "== fuzz-$target: $runs runs from seed 1" >&2
  else
    budget=(-max_total_time="$SECONDS_PER_TARGET")
    echo "== fuzz-$target for ${SECONDS_PER_TARGET}s" >&2
  fi
  log="$BUILD/fuzz-$target.log"
  status=0
  # Swift's own backtracer off, so libFuzzer's crash handler saves the input.
  SWIFT_BACKTRACE=enable=no TMPDIR="${TMPDIR:-/tmp}" "$BUILD/bin/fuzz-$target" "$corpus" "${budget[@]}" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$target/" >"$log" 2>&1 || status=$?
  runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  speed=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
  size=$(ls "$corpus" | wc -l)
  echo "fuzz-$target: ${runs:-?} runs, ${speed:-?} exec/s, corpus $size inputs, exit $status" >&2
  if [ "$status" -ne 0 ]; then tail -40 "$log" >&2; exit "$status"; fi
done

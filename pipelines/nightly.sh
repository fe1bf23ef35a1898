#!/usr/bin/env bash
# Nightly retrain for cron:  pipelines/nightly.sh PIPELINE
#
# Builds a dated run (graph → tree → triplets → GCML training → evaluation)
# from the pipeline's current data, then publishes it — an atomic switch of
# runs/<pipeline>/published — only if its MAP and GAP are not worse than the
# published run's by more than GCML_TOLERANCE (absolute, default 0.01).
#
# Exit codes: 0 published · 3 finished but not published (gate) · 4 another
# nightly holds the lock · 1 a stage failed (nothing published).
#
# Environment: GCML_TOLERANCE, GCML_KEEP (runs kept, default 7), GCML_RUNS (folder of runs, default runs),
# GCML_REFIT_PCA=1 (fit a new PCA instead of reusing the published one),
# and make overrides without spaces in their values (SEED=2 DATA=/data/today ...)
# in GCML_MAKE_ARGS.
set -uo pipefail

pipeline=${1:?usage: pipelines/nightly.sh PIPELINE}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -f "pipelines/$pipeline.mk" ] || { echo "nightly: no pipelines/$pipeline.mk" >&2; exit 2; }

base="${GCML_RUNS:-runs}/$pipeline"
nightly="$base/nightly"
published="$base/published"
tolerance=${GCML_TOLERANCE:-0.01}
keep=${GCML_KEEP:-7}
mkdir -p "$nightly"
log="$nightly/nightly.log"

exec 9>"$nightly/.lock"
if ! flock -n 9; then
  echo "nightly: another nightly run of '$pipeline' is in progress (lock $nightly/.lock); not starting" >&2
  exit 4
fi

stamp=$(date -u +%Y%m%d-%H%M%S)
run="$nightly/$stamp"
mkdir -p "$run"
say() { echo "[$(date -u +%FT%TZ)] $*" | tee -a "$log" >&2; }
say "nightly $pipeline: run $run"

# Reuse the published PCA unless asked to refit (features stay comparable night to night).
pca_args=()
if [ "${GCML_REFIT_PCA:-0}" != 1 ] && [ -f "$published/pca.h5" ]; then
  cp "$published/pca.h5" "$run/pca.h5"
  pca_args=(PCA_MODE="--pca $run/pca.h5")
  say "reusing published PCA model"
fi

read -r -a extra <<< "${GCML_MAKE_ARGS:-}"
if ! make --no-print-directory PIPELINE="$pipeline" RUN="$run" METHODS=gcml "${pca_args[@]}" "${extra[@]}" \
     "$run/gcml/retrieval.h5" "$run/gcml/annotation.h5" >>"$log" 2>&1; then
  say "FAILED: a stage failed (see $log); nothing published, $published unchanged"
  exit 1
fi

attribute() { "${GCML_CHECK:-.build/release/gcml-check}" --print-attribute "$2" "$1"; }
map=$(attribute "$run/gcml/retrieval.h5" map) && gap=$(attribute "$run/gcml/annotation.h5" gap) || {
  say "FAILED: could not read MAP/GAP of $run"; exit 1; }
say "new run: MAP $map, GAP $gap"

publish=yes
if [ -e "$published" ]; then
  old_map=$(attribute "$published/gcml/retrieval.h5" map) && old_gap=$(attribute "$published/gcml/annotation.h5" gap) || {
    old_map=0; old_gap=0; }
  say "published: MAP $old_map, GAP $old_gap (tolerance $tolerance)"
  publish=$(awk -v m="$map" -v g="$gap" -v om="$old_map" -v og="$old_gap" -v t="$tolerance" \
    'BEGIN { print (m >= om - t && g >= og - t) ? "yes" : "no" }')
fi

if [ "$publish" = yes ]; then
  ln -sfn "nightly/$stamp" "$base/.published.tmp" && mv -Tf "$base/.published.tmp" "$published"
  say "PUBLISHED $run"
  status=0
else
  say "NOT PUBLISHED: worse than the published run by more than $tolerance; kept in $run"
  status=3
fi

# Keep the last $keep runs, never the published one.
current=$(readlink "$published" 2>/dev/null | xargs -r basename)
ls -1d "$nightly"/2* 2>/dev/null | sort | head -n -"$keep" | while read -r old; do
  [ "$(basename "$old")" = "$current" ] || { rm -rf "$old"; say "removed old run $old"; }
done
exit $status

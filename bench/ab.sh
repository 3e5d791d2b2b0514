#!/usr/bin/env bash
# Two imrf-site binaries in turn on the benchmark corpus: the one-page edit with the
# build cache, and the cold build, as BENCHMARKS.md's rounds of issue 16 measure them.
#
#   bench/ab.sh A B [N]     A and B: paths of release builds; N runs each (default 7)
#
# The corpus is bench/run.sh's (`corpus 4000 en,fr,zh site`), at $CORPUS (default
# /tmp/imrf-bench/corpus-4000-en-fr-zh). Outputs go to /dev/shm (tmpfs). Each binary
# has its own output and cache; both see the same edits. A first build and a first edit
# each are not counted. Prints one line per run (label, kind, wall s, user s, system s,
# peak RSS KiB), then the medians.
set -euo pipefail
a="$1" b="$2" runs="${3:-7}"
corpus="${CORPUS:-/tmp/imrf-bench/corpus-4000-en-fr-zh}"
page="$corpus/site/content/en/s01/page-00002.md"
[ -f "$page" ] || { echo "no corpus at $corpus: make it with bench/run.sh's corpus step" >&2; exit 1; }
work="$(mktemp -d)"
trap 'cp "$work/page" "$page"; rm -rf "$work" /dev/shm/imrf-ab-*' EXIT
cp "$page" "$work/page"
label() { [ "$1" = "$a" ] && echo A || echo B; }
timed() { # timed BINARY KIND ARGS...: one line of figures
  local binary="$1" kind="$2"; shift 2
  /usr/bin/time -o "$work/time" -f "$(label "$binary") $kind %e %U %S %M" "$binary" "$@" > /dev/null 2> "$work/stderr" \
    || { cat "$work/stderr" >&2; exit 1; }
  cat "$work/time"
}
cached() { # cached BINARY KIND
  local side; side="$(label "$1")"
  timed "$1" "$2" build --root "$corpus" --output "/dev/shm/imrf-ab-$side" --cache-dir "$work/cache-$side"
}
for binary in "$a" "$b"; do cached "$binary" first > /dev/null; done
for round in $(seq 0 "$runs"); do
  cp "$work/page" "$page"
  echo "An edit, round $round." >> "$page"
  for binary in "$a" "$b"; do
    if [ "$round" = 0 ]; then cached "$binary" first-edit > /dev/null; else cached "$binary" cached; fi
  done
done | tee "$work/runs"
cp "$work/page" "$page"
for round in $(seq 1 "$runs"); do
  for binary in "$a" "$b"; do
    rm -rf /dev/shm/imrf-ab-cold
    timed "$binary" cold build --no-cache --root "$corpus" --output /dev/shm/imrf-ab-cold
  done
done | tee -a "$work/runs"
echo "A = $a, B = $b"
python3 - "$work/runs" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    side, kind, *figures = line.split()
    rows[(side, kind)].append([float(f) for f in figures])
for (side, kind), runs in sorted(rows.items()):
    wall, user, system, rss = zip(*runs)
    print(f"{side} {kind:6} n={len(runs)} wall {statistics.median(wall):.2f} s ({min(wall):.2f} - {max(wall):.2f}), "
          f"user {statistics.median(user):.2f} s, system {statistics.median(system):.2f} s, "
          f"peak RSS {statistics.median(rss) / 1024:.1f} MiB")
PY

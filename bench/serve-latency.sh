#!/usr/bin/env bash
# Watch-mode latency: the time from saving a page to the reload event the open pages
# receive (Server-Sent Events), measured against the release binary.
#
#   bench/serve-latency.sh bundled [EDITS]   # the bundled site (default 30 edits)
#   bench/serve-latency.sh corpus [EDITS]    # 12,000 generated pages (en, fr, zh x 4,000)
#
# The corpus comes from $SHARED_BENCH/gen_corpus.py (default <repo>/../shared/bench),
# written once under $BENCH_DIR (default /tmp/imrf-bench) and adapted to this project's
# schema as bench/run.sh does: config keys replaced, `sort_by` dropped, internal links
# given their language prefix. Each edit appends a paragraph to one page's body and
# waits for the reload event; the script prints every latency and the median. The
# server sends the event once the pages are rebuilt and finishes the build (search
# index, link check) afterwards: before the next edit the script waits for the build
# report that ends it, then 0.3 s, so each save finds the server idle.
set -euo pipefail
cd "$(dirname "$0")/.."
which_site="${1:-bundled}"
edits="${2:-30}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet
binary="$target/release/imrf-site"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

case "$which_site" in
  bundled)
    cp -r site themes i18n "$work/"
    page="$work/site/content/en/objective-14.md"
    ;;
  corpus)
    shared="${SHARED_BENCH:-$PWD/../shared/bench}"
    corpus="${BENCH_DIR:-/tmp/imrf-bench}/serve-corpus-4000-en-fr-zh"
    if [ ! -d "$corpus/site" ]; then
      python3 "$shared/gen_corpus.py" --pages 4000 --langs en,fr,zh --out "$corpus" --layouts site >/dev/null
    fi
    cp -r "$corpus/site" "$work/site"
    cp -r themes i18n "$work/"
    printf 'title = "Corpus"\nbase_url = "https://example.org/"\ndefault_language = "en"\ntheme = "default"\n' \
      > "$work/site/config.toml"
    find "$work/site/content" -name '_index.md' -exec sed -i '/^sort_by = /d' {} +
    for lang in en fr zh; do
      find "$work/site/content/$lang" -name '*.md' -exec sed -i "s#](/s\([0-9]\)#](/$lang/s\1#g" {} +
    done
    page="$work/site/content/en/s20/page-01950.md"
    ;;
  *)
    echo "usage: $0 bundled|corpus [EDITS]" >&2
    exit 2
    ;;
esac

python3 - "$binary" "$work" "$page" "$edits" <<'PY'
import socket, statistics, subprocess, sys, time

binary, root, page, edits = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
server = subprocess.Popen([binary, "serve", "--root", root, "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    url = None
    while url is None:
        line = server.stdout.readline()
        if not line:
            sys.exit("the server stopped before printing its URL")
        if line.startswith("Built "):
            print("first build:", line.strip())
        if line.startswith("Serving "):
            url = line.split(" at ")[1].strip()
    host = url[len("http://"):].rstrip("/")
    name, port = host.rsplit(":", 1)
    events = socket.create_connection((name, int(port)))
    events.sendall(f"GET /__imrf-site/events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    events.settimeout(120)
    buffer = b""

    def next_event():
        global buffer
        while b"\n\n" not in buffer:
            chunk = events.recv(65536)
            if not chunk:
                sys.exit("the event stream closed")
            buffer += chunk
        block, buffer = buffer.split(b"\n\n", 1)
        return block.decode()

    while "retry:" not in next_event():
        pass
    latencies = []
    def wait_for_report():
        while True:
            line = server.stdout.readline()
            if not line:
                sys.exit("the server stopped")
            if line.startswith("Built "):
                return line.strip()

    reports = []
    for n in range(edits):
        time.sleep(0.3)  # as between two saves
        started = time.perf_counter()
        with open(page, "a", encoding="utf-8") as f:
            f.write(f"\nEdit {n} of the benchmark.\n")
        while True:
            event = next_event()
            if "event: reload" in event:
                break
            if "event: build-error" in event:
                sys.exit("build error: " + event)
        latencies.append((time.perf_counter() - started) * 1000)
        reports.append(wait_for_report())
    print("last build report:", reports[-1])
    print("save -> reload event (ms):", " ".join(f"{x:.0f}" for x in latencies))
    print(f"median {statistics.median(latencies):.1f} ms, min {min(latencies):.1f}, max {max(latencies):.1f} ({edits} edits)")
finally:
    server.terminate()
    server.wait()
PY

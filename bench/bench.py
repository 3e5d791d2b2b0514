#!/usr/bin/env python3
"""Measures builds for bench/run.sh (which installs the tools and prepares the corpora).

Every run is timed by GNU time (wall, user + system CPU, peak RSS). Tools take turns
(round-robin), so a burst of load on the machine hits all of them alike; medians are
reported, with ratios to the floor and to Hugo.

  side-by-side  cold builds of the floor, imrf-site and Hugo (+ Pagefind), then a rebuild
                after a one-page edit, and the bytes a first search query downloads
  scale         imrf-site and the floor at several corpus sizes, for linear growth
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME_FORMAT = "%e %U %S %M"


def measure(cmd, log):
    """Runs cmd under GNU time; returns wall s, CPU s (user + system), peak RSS MiB."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t, open(log, "w") as out:
        proc = subprocess.run(["/usr/bin/time", "-f", TIME_FORMAT, "-o", t.name, *cmd], stdout=out, stderr=out)
        if proc.returncode != 0:
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}; see {log}")
        wall, user, system, rss = t.read().split()[-4:]
    return {"wall": float(wall), "cpu": float(user) + float(system), "rss": int(rss) / 1024}


def tree_bytes(path, skip=None):
    total = 0
    for root, dirs, files in os.walk(path):
        if skip and skip in dirs:
            dirs.remove(skip)
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def summarize(runs):
    return {k: median_of(runs, k) for k in ("wall", "cpu", "rss")} | {"runs": len(runs)}


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    return str(path)


def corpus_pages(corpus):
    return sum(1 for _ in Path(corpus, "site", "content").rglob("*.md"))


def first_query_words(corpus, lang):
    """Queries for the search measurement: words from the titles of three pages."""
    words = []
    for page in ("s01/page-00001.md", "s02/page-00150.md", "s03/page-00250.md"):
        path = Path(corpus, "site", "content", lang, page)
        if path.exists():
            title = next(l for l in path.read_text().splitlines() if l.startswith("title = "))
            words.append(title.split('"')[1].split()[-1].lower())
    return words


def search_bytes(script, where, lang, words):
    """Median over the query words of the bytes (raw, gzip) a first query fetches."""
    raw, gz = [], []
    for word in words:
        proc = subprocess.run(["node", script, where, lang, word], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"search query failed: {proc.stderr[-2000:]}", file=sys.stderr)
            return None
        result = json.loads(proc.stdout)
        print(f"  first query {word!r}: {result['results']} results, {result['bytes']} bytes "
              f"({result['gzip']} gzip) in {len(result['files'])} files", file=sys.stderr)
        raw.append(result["bytes"])
        gz.append(result["gzip"])
    return {"raw": statistics.median(raw), "gzip": statistics.median(gz)} if raw else None


def edit_one_page(corpus, n, layout="site"):
    """Changes one page's text, as an author saving a file does."""
    page = Path(corpus, layout, "content", "en", "s01", "page-00002.md")
    text = page.read_text()
    marker = "\nBench edit "
    text = text.split(marker)[0].rstrip("\n") + f"{marker}{n}.\n"
    page.write_text(text)


def stop(proc):
    """Stops a server as Ctrl-C does, or kills it if it does not stop."""
    import signal

    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def watch_latency(imrf, corpus, runs, log):
    """One-page edits under `imrf-site serve` (watch mode): the rebuild time the server
    reports, and the time from saving the file to the new page being served (polled
    over loopback HTTP). Returns None when this build has no `serve` command."""
    import queue
    import re
    import threading
    import urllib.request

    with open(log, "w") as err:
        proc = subprocess.Popen([imrf, "serve", "--root", corpus, "--port", "0"], stdout=subprocess.PIPE,
                                stderr=err, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True).start()

    def next_line(pattern, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if proc.poll() is not None:
                    return None
                continue
            found = re.search(pattern, line)
            if found:
                return found
        return None

    try:
        serving = next_line(r"Serving .* at (http://\S+)")  # printed after the first build
        if not serving or not next_line(r"^Watching"):
            return None
        time.sleep(2)  # let the watcher settle: an edit before it listens would be missed
        base = serving.group(1).rstrip("/")
        url = base + "/en/s01/page-00002/"
        index_url = base + "/en/search/index.json"

        def index_version():
            try:
                with urllib.request.urlopen(index_url, timeout=10) as response:
                    return response.read()
            except OSError:
                return None

        reported, served, searchable = [], [], []
        for i in range(runs):
            marker = f"watch{i}x{int(time.time())}"
            version = index_version()
            started = time.time()
            edit_one_page(corpus, marker)
            deadline = started + 300
            while time.time() < deadline:
                try:
                    with urllib.request.urlopen(url, timeout=10) as response:
                        if marker in response.read().decode("utf-8", "replace"):
                            break
                except OSError:
                    pass
                time.sleep(0.005)
            served.append(time.time() - started)
            # The search index is current once its manifest (whose version hashes every
            # index file) changes: the edit adds a word to the index.
            while time.time() < deadline and index_version() == version:
                time.sleep(0.005)
            searchable.append(time.time() - started)
            built = next_line(r"^Built .* in (\d+) ms", timeout=30)
            if built:
                reported.append(int(built.group(1)) / 1000)
            time.sleep(0.5)
        return {"reported": statistics.median(reported) if reported else None,
                "served": statistics.median(served), "searchable": statistics.median(searchable), "runs": runs}
    finally:
        stop(proc)
        edit_one_page(corpus, "restored")


def hugo_server_latency(hugo, corpus, runs, log):
    """`hugo server`'s edit-to-served time for the same one-page edit (rendered to
    memory, its default), polled over loopback HTTP as for imrf-site serve."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with open(log, "w") as err:
        proc = subprocess.Popen([hugo, "server", "--source", f"{corpus}/hugo", "--bind", "127.0.0.1", "--port",
                                 str(port), "--disableLiveReload", "--quiet"], stdout=err, stderr=err)
    url = f"http://127.0.0.1:{port}/s01/page-00002/"

    def fetch():
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode("utf-8", "replace")
        except OSError:
            return None

    try:
        deadline = time.time() + 600
        while fetch() is None:
            if time.time() > deadline or proc.poll() is not None:
                return None
            time.sleep(0.2)
        time.sleep(2)
        served = []
        for i in range(runs):
            marker = f"hugo{i}x{int(time.time())}"
            started = time.time()
            edit_one_page(corpus, marker, "hugo")
            while time.time() < started + 300 and marker not in (fetch() or ""):
                time.sleep(0.005)
            served.append(time.time() - started)
            time.sleep(0.5)
        return {"served": statistics.median(served), "runs": runs}
    finally:
        stop(proc)
        edit_one_page(corpus, "restored", "hugo")


def side_by_side(a):
    bench = Path(a.bench_dir)
    corpus = a.corpus
    logs = bench / "logs"
    logs.mkdir(exist_ok=True)
    pages = corpus_pages(corpus)
    tools = a.tools.split()
    out = {t: Path(a.out_dir) / f"out-{t}" for t in ("floor", "imrf-site", "hugo")}
    cmds = {
        "floor": lambda: [a.floor, f"{corpus}/site", fresh(out["floor"])],
        # Cold: nothing kept from an earlier run (the build cache is for the rebuilds below).
        "imrf-site": lambda: [a.imrf, "build", "--no-cache", "--root", corpus, "--output", fresh(out["imrf-site"])],
        "hugo": lambda: [a.hugo, "--quiet", "--source", f"{corpus}/hugo", "--destination", fresh(out["hugo"])],
    }
    runs = {t: [] for t in tools}
    pagefind_runs = []
    print(f"cold builds of {pages} pages ({corpus}), {a.runs} runs each, round-robin", file=sys.stderr)
    for i in range(a.runs):
        for tool in tools:
            if tool == "hugo" and i >= a.hugo_runs:
                continue
            runs[tool].append(measure(cmds[tool](), logs / f"{tool}.log"))
            if tool == "hugo" and a.pagefind:
                # Hugo + Pagefind: the index is built over Hugo's fresh output.
                pagefind_runs.append(measure([a.pagefind, "--site", str(out["hugo"])], logs / "pagefind.log"))
            print(f"  run {i + 1} {tool}: {runs[tool][-1]}", file=sys.stderr)
    lang = Path(corpus, "site", "config.toml").read_text().split('default_language = "')[1].split('"')[0]
    words = first_query_words(corpus, lang)
    rows = []
    for tool in tools:
        row = {"tool": tool, **summarize(runs[tool])}
        row["bytes"] = tree_bytes(out[tool], skip="pagefind")
        if tool == "imrf-site":
            row["search"] = search_bytes(a.search_js, str(out[tool]), lang, words)
        rows.append(row)
    writes = write_only(a, out, [t for t in ("floor", "imrf-site") if t in tools], logs)
    if pagefind_runs:
        hugo_runs = runs["hugo"]
        combined = [
            {"wall": h["wall"] + p["wall"], "cpu": h["cpu"] + p["cpu"], "rss": max(h["rss"], p["rss"])}
            for h, p in zip(hugo_runs, pagefind_runs)
        ]
        row = {"tool": "hugo+pagefind", **summarize(combined), "bytes": tree_bytes(out["hugo"])}
        row["search"] = search_bytes(a.pagefind_js, str(out["hugo"] / "pagefind"), lang, words)
        rows.append(row)

    # A rebuild after a one-page edit, through the command line (the output exists),
    # with the build cache (made by one build first) and without; Hugo's own rebuild.
    incremental = {}
    if "imrf-site" in tools:
        rebuild = [a.imrf, "build", "--root", corpus, "--output", str(out["imrf-site"])]
        for name, flags in (("imrf-site build (one page edited, build cache)", []),
                            ("imrf-site build --no-cache (one page edited)", ["--no-cache"])):
            fresh(out["imrf-site"])
            subprocess.run(rebuild + flags, capture_output=True, check=True)
            inc = []
            for i in range(a.runs):
                edit_one_page(corpus, i)
                inc.append(measure(rebuild + flags, logs / "imrf-site-rebuild.log"))
            edit_one_page(corpus, "restored")
            incremental[name] = summarize(inc)
        watch = watch_latency(a.imrf, corpus, a.runs, logs / "imrf-site-serve.log")
        print(f"  watch mode: {watch}", file=sys.stderr)
        report_watch = watch
    else:
        report_watch = None
    if "hugo" in tools:
        inc = []
        subprocess.run(cmds["hugo"](), capture_output=True, check=True)
        for i in range(a.hugo_runs):
            edit_one_page(corpus, i, "hugo")
            inc.append(measure([a.hugo, "--quiet", "--source", f"{corpus}/hugo", "--destination", str(out["hugo"])],
                               logs / "hugo-rebuild.log"))
        edit_one_page(corpus, "restored", "hugo")
        incremental["hugo (one page edited, output present)"] = summarize(inc)
        report_hugo_watch = hugo_server_latency(a.hugo, corpus, a.runs, logs / "hugo-server.log")
        print(f"  hugo server: {report_hugo_watch}", file=sys.stderr)
    else:
        report_hugo_watch = None
    report = {"pages": pages, "corpus": corpus, "machine": machine(), "rows": rows, "writes": writes,
              "incremental": incremental, "watch": report_watch, "hugo_watch": report_hugo_watch}
    save(bench, "side-by-side", report)
    print_side_by_side(report)


def write_only(a, out, tools, logs):
    """What writing each tool's output alone costs: its last output, archived once, then
    extracted by one `tar` process into a fresh folder (no modification times set).
    Nothing is parsed or rendered, so this is a lower bound on the kernel's share of a
    build that writes the same files."""
    writes = {}
    for tool in tools:
        archive = Path(a.out_dir) / f"{tool}.tar"
        subprocess.run(["tar", "-C", str(out[tool]), "-cf", str(archive), "."], check=True)
        target = Path(a.out_dir) / f"untar-{tool}"
        runs = []
        for _ in range(a.runs):
            fresh(target)
            target.mkdir()
            runs.append(measure(["tar", "-C", str(target), "-xmf", str(archive)], logs / "tar.log"))
        fresh(target)
        archive.unlink()
        writes[tool] = summarize(runs)
        print(f"  writing {tool}'s output: {writes[tool]}", file=sys.stderr)
    return writes


def scale(a):
    bench = Path(a.bench_dir)
    outs = Path(a.out_dir)
    logs = bench / "logs"
    logs.mkdir(exist_ok=True)
    results = []
    for corpus in a.corpora:
        pages = corpus_pages(corpus)
        runs = {"floor": [], "imrf-site": []}
        for i in range(a.runs):
            # Each output is removed right after its run: at 120,000 pages they are
            # gigabytes, and the tmpfs they live on is memory.
            runs["floor"].append(measure([a.floor, f"{corpus}/site", fresh(outs / "out-floor")], logs / "floor.log"))
            fresh(outs / "out-floor")
            runs["imrf-site"].append(measure(
                [a.imrf, "build", "--root", corpus, "--output", fresh(outs / "out-imrf-site")], logs / "imrf-site.log"))
            fresh(outs / "out-imrf-site")
        for tool, r in runs.items():
            results.append({"tool": tool, "pages": pages, **summarize(r)})
            print(f"  {pages} pages {tool}: {results[-1]}", file=sys.stderr)
    report = {"machine": machine(), "rows": results}
    save(bench, "scale", report)
    print_scale(report)


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), "?")
    mem = next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(int(mem) / 2**20),
            "load": os.getloadavg(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def save(bench, name, report):
    path = bench / f"{name}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"results: {path}", file=sys.stderr)


def fmt_bytes(n):
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def fmt_search(search):
    return f"{fmt_bytes(search['raw'])} ({fmt_bytes(search['gzip'])} gzip)" if search else "-"


def print_side_by_side(r):
    rows = {row["tool"]: row for row in r["rows"]}
    floor = rows.get("floor")
    hugo = rows.get("hugo")
    m = r["machine"]
    print(f"\n{r['pages']} pages; {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; "
          f"load {m['load'][0]:.2f} {m['load'][1]:.2f} {m['load'][2]:.2f} at the end; {m['date']}\n")
    print("| tool | wall (median) | CPU | peak RSS | output | search bytes, first query | wall / floor | RSS / Hugo |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in r["rows"]:
        vs_floor = f"{row['wall'] / floor['wall']:.2f}x" if floor else "-"
        vs_hugo = f"{row['rss'] / hugo['rss']:.3f}" if hugo else "-"
        search = fmt_search(row.get("search"))
        print(f"| {row['tool']} | {row['wall']:.2f} s | {row['cpu']:.2f} s | {row['rss']:.0f} MiB | "
              f"{fmt_bytes(row['bytes'])} | {search} | {vs_floor} | {vs_hugo} |")
    for tool, w in r.get("writes", {}).items():
        print(f"\nwriting {tool}'s output alone (one `tar -x`): wall {w['wall']:.2f} s, CPU {w['cpu']:.2f} s "
              f"(median of {w['runs']})")
    for name, inc in r["incremental"].items():
        print(f"\n{name}: wall {inc['wall'] * 1000:.0f} ms, CPU {inc['cpu']:.2f} s, peak {inc['rss']:.0f} MiB "
              f"(median of {inc['runs']})")
    watch = r.get("watch")
    if watch:
        reported = f"{watch['reported'] * 1000:.0f} ms" if watch["reported"] is not None else "not reported"
        print(f"\nimrf-site serve, one page edited: rebuild {reported} (as the server reports it), "
              f"saved-to-served {watch['served'] * 1000:.0f} ms, saved-to-search-current "
              f"{watch['searchable'] * 1000:.0f} ms (median of {watch['runs']})")
    hugo_watch = r.get("hugo_watch")
    if hugo_watch:
        print(f"\nhugo server, one page edited: saved-to-served {hugo_watch['served'] * 1000:.0f} ms "
              f"(median of {hugo_watch['runs']})")


def print_scale(r):
    print("\n| pages | tool | wall (median) | CPU | peak RSS |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for row in r["rows"]:
        print(f"| {row['pages']} | {row['tool']} | {row['wall']:.2f} s | {row['cpu']:.2f} s | {row['rss']:.0f} MiB |")
    imrf = [row for row in r["rows"] if row["tool"] == "imrf-site"]
    for small, big in zip(imrf, imrf[1:]):
        print(f"\nimrf-site {small['pages']} -> {big['pages']} pages ({big['pages'] / small['pages']:.1f}x): "
              f"wall {big['wall'] / small['wall']:.1f}x, CPU {big['cpu'] / small['cpu']:.1f}x, "
              f"memory {big['rss'] / small['rss']:.1f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench-dir", required=True)
    ap.add_argument("--imrf", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--out-dir", required=True, help="where the tools write (tmpfs: see BENCHMARKS.md)")
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("side-by-side")
    s.add_argument("--corpus", required=True)
    s.add_argument("--hugo", default="")
    s.add_argument("--pagefind", default="")
    s.add_argument("--pagefind-js", default="")
    s.add_argument("--search-js", required=True)
    s.add_argument("--runs", type=int, default=5)
    s.add_argument("--hugo-runs", type=int, default=3)
    s.add_argument("--tools", default="floor imrf-site hugo")
    c = sub.add_parser("scale")
    c.add_argument("--runs", type=int, default=3)
    c.add_argument("corpora", nargs="+")
    a = ap.parse_args()
    side_by_side(a) if a.mode == "side-by-side" else scale(a)


if __name__ == "__main__":
    main()

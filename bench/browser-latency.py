#!/usr/bin/env python3
"""The browser side of a save: the time from saving a page of the bundled site to its new
text being on the screen of a Chromium page open at it, under `imrf-site serve`.

    python3 bench/browser-latency.py [--binary target/release/imrf-site] [--edits 20]

Drives Debian's headless Chromium through chromedriver (the flags the tests use), with
nothing but the standard library. Each edit rewrites one sentence of
site/content/en/objective-14.md in a copy of the bundled site (a new marker each time)
and notes the wall-clock time just before the write. In the page, a MutationObserver
notes the time of the first animation frame after the marker appears in <main> (the
page updated in place); if the page reloaded instead, the new document's first
contentful paint is taken. Prints each latency and the median, in milliseconds. Both
times are the system's wall clock, read by the same machine.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900"]
SENTENCE = "Consular assistance plays an essential role"

WATCH = """
window.__seen = null;
const mark = arguments[0];
new MutationObserver(() => {
  if (window.__seen === null && document.querySelector('main').textContent.includes(mark)) {
    window.__seen = 0;
    requestAnimationFrame(() => { window.__seen = performance.timeOrigin + performance.now(); });
  }
}).observe(document.documentElement, { subtree: true, childList: true, characterData: true });
"""

SEEN = """
const main = document.querySelector('main');
if (!main || !main.textContent.includes(arguments[0])) return null;
if (window.__seen) return window.__seen;
if (window.__seen === 0) return null;
const paint = performance.getEntriesByName('first-contentful-paint')[0];
return paint ? performance.timeOrigin + paint.startTime : null;
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}").get("value")


def wait_until(what, check, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.005)
    sys.exit(f"timed out waiting for {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(REPO, "target/release/imrf-site"))
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()

    work = tempfile.mkdtemp()
    profile = tempfile.mkdtemp()
    processes = []
    try:
        for part in ("site", "themes", "i18n"):
            shutil.copytree(os.path.join(REPO, part), os.path.join(work, part))
        page = os.path.join(work, "site/content/en/objective-14.md")
        original = open(page, encoding="utf-8").read()
        assert SENTENCE in original

        port = free_port()
        server = subprocess.Popen([args.binary, "serve", "--root", work, "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(server)
        driver_port = free_port()
        driver = subprocess.Popen(["/usr/bin/chromedriver", f"--port={driver_port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(driver)
        base = f"http://127.0.0.1:{driver_port}"
        wait_until("chromedriver", lambda: _ready(base))
        session = call(base, "POST", "/session", {"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": FLAGS + [f"--user-data-dir={profile}"]}}}})
        session_url = f"{base}/session/{session['sessionId']}"
        url = f"http://127.0.0.1:{port}/en/objective-14/"
        wait_until("the server", lambda: _serves(url))

        latencies = []
        for edit in range(args.edits + 1):
            call(session_url, "POST", "/url", {"url": url})
            mark = f"{SENTENCE} (edit {edit})"
            call(session_url, "POST", "/execute/sync", {"script": WATCH, "args": [mark]})
            time.sleep(0.3)
            saved = time.time() * 1000
            with open(page, "w", encoding="utf-8") as out:
                out.write(original.replace(SENTENCE, mark, 1))
            shown = wait_until("the new text", lambda: call(session_url, "POST", "/execute/sync",
                                                             {"script": SEEN, "args": [mark]}))
            if edit > 0:  # the first edit warms the server and the browser
                latencies.append(shown - saved)
                print(f"edit {edit}: {shown - saved:.1f} ms", flush=True)
            time.sleep(0.5)  # the server finishes the build (search index, link check)
        call(session_url, "DELETE", "")
        print(f"median of {len(latencies)}: {statistics.median(latencies):.1f} ms "
              f"(min {min(latencies):.1f}, max {max(latencies):.1f})")
    finally:
        for process in processes:
            process.terminate()
            process.wait()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(profile, ignore_errors=True)


def _ready(base):
    try:
        return call(base, "GET", "/status")["ready"]
    except OSError:
        return False


def _serves(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()

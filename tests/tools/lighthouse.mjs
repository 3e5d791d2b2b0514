// Measures built pages with Lighthouse 12.2.3 in Debian's Chromium (CHROME_PATH, default
// /usr/bin/chromium): performance, accessibility, best practices and SEO, mobile (the
// default, throttled) and desktop. A measuring script, not a test: timings vary by machine.
//
//   cargo run --release -- build --output /tmp/imrf-public
//   node tests/tools/lighthouse.mjs /tmp/imrf-public /en/ /en/objective-15/
//
// Pages are served from 127.0.0.1 with gzip, as a static host would. Reports are written
// to target/lighthouse/ (HTML and JSON).
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const [root = path.join(here, "../../public"), ...pages] = process.argv.slice(2);
if (pages.length === 0) pages.push("/en/", "/en/objective-15/");
const reports = path.join(here, "../../target/lighthouse");
fs.mkdirSync(reports, { recursive: true });

const types = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".xml": "application/xml",
  ".txt": "text/plain; charset=utf-8",
};

const server = http.createServer((request, response) => {
  const url = new URL(request.url, "http://localhost");
  let file = path.join(root, decodeURIComponent(url.pathname));
  if (!file.startsWith(path.resolve(root))) file = path.join(root, "404.html");
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
  let status = 200;
  if (!fs.existsSync(file)) {
    status = 404;
    file = path.join(root, "404.html");
  }
  let body = fs.readFileSync(file);
  const headers = { "Content-Type": types[path.extname(file)] || "application/octet-stream" };
  headers["Cache-Control"] = url.pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
  if (/gzip/.test(request.headers["accept-encoding"] || "") && /text|json|svg|xml|javascript/.test(headers["Content-Type"])) {
    body = zlib.gzipSync(body);
    headers["Content-Encoding"] = "gzip";
  }
  response.writeHead(status, headers);
  response.end(body);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  chromeFlags: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const categories = ["performance", "accessibility", "best-practices", "seo"];
let worst = 100;
try {
  for (const page of pages) {
    for (const [form, config] of [["mobile", undefined], ["desktop", desktopConfig]]) {
      const result = await lighthouse(`${origin}${page}`, { port: chrome.port, output: ["html", "json"], onlyCategories: categories, logLevel: "error" }, config);
      const name = `${page.replace(/\W+/g, "-").replace(/^-|-$/g, "") || "root"}-${form}`;
      fs.writeFileSync(path.join(reports, `${name}.html`), result.report[0]);
      fs.writeFileSync(path.join(reports, `${name}.json`), result.report[1]);
      const scores = categories.map((c) => Math.round(result.lhr.categories[c].score * 100));
      worst = Math.min(worst, ...scores);
      const failing = Object.values(result.lhr.audits)
        .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== "informative" && a.scoreDisplayMode !== "manual")
        .map((a) => a.id);
      console.log(`${page} ${form}: ${categories.map((c, i) => `${c} ${scores[i]}`).join(", ")}` +
        (failing.length ? `\n  below 1: ${failing.join(", ")}` : ""));
    }
  }
} finally {
  await chrome.kill();
  server.close();
}
console.log(`reports in ${reports}`);

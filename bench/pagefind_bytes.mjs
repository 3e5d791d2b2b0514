// Bytes a browser fetches for a first Pagefind query: pagefind.js, the entry file, the
// language's metadata and WebAssembly, the index chunks the query needs and the
// fragments of the first page of results (Pagefind's UI shows 5).
//   node pagefind_bytes.mjs <pagefind dir> <lang> <query> [results shown, default 5]
// Prints JSON: {query, results, bytes, gzip, files: [[path, bytes, gzip bytes], ...]}.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [dir, lang, query, shown = "5"] = process.argv.slice(2);
const fetched = [];
const base = "http://bench.invalid/pagefind/";
globalThis.fetch = async (input) => {
  const url = typeof input === "string" ? input : input.url ?? String(input);
  const rel = decodeURIComponent(new URL(url, base).pathname.replace(/^\/pagefind\//, ""));
  const bytes = readFileSync(path.join(dir, rel.split("?")[0]));
  fetched.push([rel, bytes.length, gzipSync(bytes).length]);
  return new Response(bytes);
};
globalThis.location = new URL(base);
globalThis.document = { currentScript: null, documentElement: { lang, getAttribute: () => lang }, querySelector: () => null };
const js = path.join(dir, "pagefind.js");
fetched.push(["pagefind.js", readFileSync(js).length, gzipSync(readFileSync(js)).length]);
const pagefind = await import(pathToFileURL(js).href);
await pagefind.options({ basePath: base });
await pagefind.init();
const search = await pagefind.search(query);
const results = await Promise.all(search.results.slice(0, Number(shown)).map((r) => r.data()));
const sum = (k) => fetched.reduce((total, f) => total + f[k], 0);
console.log(JSON.stringify({ query, results: search.results.length, bytes: sum(1), gzip: sum(2), files: fetched }));

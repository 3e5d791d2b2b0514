// Bytes a reader's browser fetches for a first query on imrf-site's search index: the
// search script and the language's stemmer (as published under assets/), then the index
// files the query needs (manifest, term shards, documents of the first results). Runs
// the published search.js in node, as tests/fixtures/search-node/run.mjs does.
//   node search_bytes.mjs <output dir> <lang> <query> [results shown, default 5]
// Prints JSON: {query, results, bytes, gzip, files: [[path, bytes, gzip bytes], ...]}.
import { readFileSync, readdirSync } from "node:fs";
import { join, basename } from "node:path";
import { gzipSync } from "node:zlib";
import vm from "node:vm";

const [out, lang, query, shown = "5"] = process.argv.slice(2);
const assets = join(out, "assets");
const context = { TextEncoder, TextDecoder, URL, Intl, console };
context.self = context;
vm.createContext(context);
const scripts = readdirSync(assets).filter((f) => /^(search|stem-[a-z]+)\.[0-9a-f]+\.js$/.test(f)).sort();
for (const file of scripts) {
  vm.runInContext(readFileSync(join(assets, file), "utf8"), context, { filename: file });
}
const S = context.imrfSearch;
const fetched = [];
const count = (name, body) => fetched.push([name, body.length, gzipSync(body).length]);

const searchDir = join(out, lang, "search");
const manifest = JSON.parse(readFileSync(join(searchDir, "index.json"), "utf8"));
count("assets/" + scripts.find((f) => f.startsWith("search.")), readFileSync(join(assets, scripts.find((f) => f.startsWith("search.")))));
if (manifest.text.stemmer && manifest.text.stemmer.url) {
  const stem = basename(manifest.text.stemmer.url);
  count("assets/" + stem, readFileSync(join(assets, stem)));
}
const load = async (url) => {
  const path = url.replace(/\?v=.*$/, "");
  const body = readFileSync(join(searchDir, path));
  count(`${lang}/search/${path}`, body);
  return body.toString("utf8");
};
const index = await S.open("", load, S.stemmer);
const found = await index.search(query, false, false);
await index.documents(found.results.slice(0, Number(shown)));
const sum = (k) => fetched.reduce((total, f) => total + f[k], 0);
console.log(JSON.stringify({ query, results: found.results.length, bytes: sum(1), gzip: sum(2), files: fetched }));

// Client-side search, loaded by site.js when the reader first focuses the search box
// or opens the search page. It reads the index that src/search/ writes under
// /<lang>/search/ and fetches only the parts a query needs: the manifest, the term
// shards holding the query's words, and the document chunks of the results shown.
// The text processing must match src/search/text.rs step for step (tests/it/search.rs
// runs both over word lists); the stemmers are stem-<algorithm>.js, loaded on demand.
(function (root) {
  "use strict";
  var api = (root.imrfSearch = root.imrfSearch || {});

  // ------------------------------------------------------------ Snowball runtime
  // A port of rust-stemmers' SnowballEnv, on UTF-8 bytes like the original, so that the
  // translated algorithms (tools/snowball-to-js.mjs) behave exactly as the Rust ones.
  var encoder = new TextEncoder();
  var decoder = new TextDecoder();
  function bytes(text) {
    return Array.from(encoder.encode(text));
  }

  function Env(word) {
    this.b = bytes(word);
    this.cursor = 0;
    this.limit = this.b.length;
    this.limit_backward = 0;
    this.bra = 0;
    this.ket = this.limit;
  }
  var E = Env.prototype;
  E.boundary = function (i) {
    if (i === 0 || i === this.b.length) return true;
    if (i < 0 || i > this.b.length) return false;
    return (this.b[i] & 0xc0) !== 0x80;
  };
  E.codePoint = function (i) {
    var b = this.b, c = b[i];
    if (c < 0x80) return c;
    if (c < 0xe0) return ((c & 0x1f) << 6) | (b[i + 1] & 0x3f);
    if (c < 0xf0) return ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
    return ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
  };
  E.charCount = function () {
    var n = 0;
    for (var i = 0; i < this.b.length; i++) if ((this.b[i] & 0xc0) !== 0x80) n++;
    return n;
  };
  E.text = function () {
    return decoder.decode(new Uint8Array(this.b));
  };
  E.replace_s = function (bra, ket, s) {
    var adjustment = s.length - (ket - bra);
    this.b = this.b.slice(0, bra).concat(s, this.b.slice(ket));
    this.limit += adjustment;
    if (this.cursor >= ket) this.cursor += adjustment;
    else if (this.cursor > bra) this.cursor = bra;
    return adjustment;
  };
  E.startsWithAt = function (at, s) {
    if (at + s.length > this.b.length) return false;
    for (var i = 0; i < s.length; i++) if (this.b[at + i] !== s[i]) return false;
    return true;
  };
  E.eq_s = function (text) {
    var s = bytes(text);
    if (this.cursor >= this.limit || !this.startsWithAt(this.cursor, s)) return false;
    this.cursor += s.length;
    while (!this.boundary(this.cursor)) this.cursor++;
    return true;
  };
  E.eq_s_b = function (text) {
    var s = bytes(text);
    if (this.cursor - this.limit_backward < s.length) return false;
    if (!this.boundary(this.cursor - s.length) || !this.startsWithAt(this.cursor - s.length, s)) return false;
    this.cursor -= s.length;
    return true;
  };
  E.slice_from = function (text) {
    this.replace_s(this.bra, this.ket, bytes(text));
    return true;
  };
  E.slice_del = function () {
    return this.slice_from("");
  };
  E.insert = function (bra, ket, text) {
    var adjustment = this.replace_s(bra, ket, bytes(text));
    if (bra <= this.bra) this.bra += adjustment;
    if (bra <= this.ket) this.ket += adjustment;
  };
  E.next_char = function () {
    this.cursor++;
    while (!this.boundary(this.cursor)) this.cursor++;
  };
  E.previous_char = function () {
    this.cursor--;
    while (!this.boundary(this.cursor)) this.cursor--;
  };
  E.byte_index_for_hop = function (delta) {
    var res = this.cursor;
    for (; delta > 0; delta--) {
      res++;
      while (res <= this.b.length && !this.boundary(res)) res++;
    }
    for (; delta < 0; delta++) {
      res--;
      while (res >= 0 && !this.boundary(res)) res--;
    }
    return res;
  };
  // A grouping is a bit set over the code points min..max (see snowball_env.rs).
  function inSet(chars, min, max, ch) {
    if (ch > max || ch < min) return false;
    ch -= min;
    return (chars[ch >> 3] & (1 << (ch & 7))) !== 0;
  }
  E.in_grouping = function (chars, min, max) {
    if (this.cursor >= this.limit || this.cursor >= this.b.length) return false;
    if (!inSet(chars, min, max, this.codePoint(this.cursor))) return false;
    this.next_char();
    return true;
  };
  E.in_grouping_b = function (chars, min, max) {
    if (this.cursor <= this.limit_backward) return false;
    this.previous_char();
    var ch = this.codePoint(this.cursor);
    this.next_char();
    if (!inSet(chars, min, max, ch)) return false;
    this.previous_char();
    return true;
  };
  E.out_grouping = function (chars, min, max) {
    if (this.cursor >= this.limit || this.cursor >= this.b.length) return false;
    if (inSet(chars, min, max, this.codePoint(this.cursor))) return false;
    this.next_char();
    return true;
  };
  E.out_grouping_b = function (chars, min, max) {
    if (this.cursor <= this.limit_backward) return false;
    this.previous_char();
    var ch = this.codePoint(this.cursor);
    this.next_char();
    if (inSet(chars, min, max, ch)) return false;
    this.previous_char();
    return true;
  };
  E.find_among = function (amongs, context) {
    var i = 0, j = amongs.length, c = this.cursor, l = this.limit;
    var common_i = 0, common_j = 0, first_key_inspected = false;
    for (;;) {
      var k = i + ((j - i) >> 1), diff = 0, common = Math.min(common_i, common_j), w = amongs[k];
      for (var lvar = common; lvar < w.s.length; lvar++) {
        if (c + common === l) {
          diff = -1;
          break;
        }
        diff = this.b[c + common] - w.s[lvar];
        if (diff !== 0) break;
        common++;
      }
      if (diff < 0) {
        j = k;
        common_j = common;
      } else {
        i = k;
        common_i = common;
      }
      if (j - i <= 1) {
        if (i > 0 || j === i || first_key_inspected) break;
        first_key_inspected = true;
      }
    }
    return this.among_result(amongs, i, common_i, context, c, 1);
  };
  E.find_among_b = function (amongs, context) {
    var i = 0, j = amongs.length, c = this.cursor, lb = this.limit_backward;
    var common_i = 0, common_j = 0, first_key_inspected = false;
    for (;;) {
      var k = i + ((j - i) >> 1), diff = 0, common = Math.min(common_i, common_j), w = amongs[k];
      for (var lvar = w.s.length - common - 1; lvar >= 0; lvar--) {
        if (c - common === lb) {
          diff = -1;
          break;
        }
        diff = this.b[c - common - 1] - w.s[lvar];
        if (diff !== 0) break;
        common++;
      }
      if (diff < 0) {
        j = k;
        common_j = common;
      } else {
        i = k;
        common_i = common;
      }
      if (j - i <= 1) {
        if (i > 0 || j === i || first_key_inspected) break;
        first_key_inspected = true;
      }
    }
    return this.among_result(amongs, i, common_i, context, c, -1);
  };
  // The second half of find_among(_b): walk the candidates sharing the matched prefix.
  E.among_result = function (amongs, i, common_i, context, c, direction) {
    for (;;) {
      var w = amongs[i];
      if (common_i >= w.s.length) {
        this.cursor = c + direction * w.s.length;
        if (!w.f) return w.r;
        var res = w.f(this, context);
        this.cursor = c + direction * w.s.length;
        if (res) return w.r;
      }
      i = w.i;
      if (i < 0) return 0;
    }
  };

  var stemmers = {};
  var waiting = {};
  api.among = function (s, i, r, f) {
    return { s: bytes(s), i: i, r: r, f: f };
  };
  // Called by each stem-<algorithm>.js when it has loaded.
  api.addStemmer = function (name, algorithm) {
    stemmers[name] = function (word) {
      var env = new Env(word);
      algorithm(env);
      return env.text();
    };
    (waiting[name] || []).forEach(function (resolve) {
      resolve(stemmers[name]);
    });
    delete waiting[name];
  };
  // The stemmer `name`, loading its script from `url` the first time.
  api.stemmer = function (name, url) {
    if (stemmers[name]) return Promise.resolve(stemmers[name]);
    return new Promise(function (resolve, reject) {
      if (!waiting[name]) {
        waiting[name] = [];
        var script = document.createElement("script");
        script.src = url;
        script.onerror = function () {
          reject(new Error("cannot load " + url));
        };
        document.head.appendChild(script);
      }
      waiting[name].push(resolve);
    });
  };

  // ------------------------------------------------------------ text processing
  // The same steps as src/search/text.rs; see its module comment.
  var WORD_CHAR = /[\p{Alphabetic}\p{N}\p{M}]/u;
  var WORD_RUN = /[\p{Alphabetic}\p{N}\p{M}]+/gu;
  function isHan(c) {
    return (
      (c >= 0x3400 && c <= 0x4dbf) ||
      (c >= 0x4e00 && c <= 0x9fff) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0x20000 && c <= 0x2fa1f) ||
      (c >= 0x30000 && c <= 0x323af)
    );
  }
  var ARABIC = { "\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627", "\u0629": "\u0647", "\u0649": "\u064a" };

  function Processor(options, stem) {
    this.foldLatin = options.foldLatin;
    this.foldYo = options.foldYo;
    this.stem = stem || function (word) {
      return word;
    };
  }
  Processor.prototype.normalize = function (text) {
    var lowered = text.normalize("NFKC").toLowerCase();
    var folded = "";
    for (var c of lowered) {
      var code = c.codePointAt(0);
      if (code === 0x640 || (code >= 0x64b && code <= 0x65f) || code === 0x670) continue;
      if (ARABIC[c]) folded += ARABIC[c];
      else if (c === "ё" && this.foldYo) folded += "е";
      else if (c === "œ" && this.foldLatin) folded += "oe";
      else if (c === "æ" && this.foldLatin) folded += "ae";
      else folded += c;
    }
    if (!this.foldLatin) return folded;
    // Ligatures once more: stripping marks can uncover one ("ǣ" is "æ" and a macron).
    return folded.normalize("NFD").replace(/[\u0300-\u036f]/g, "").normalize("NFC").replace(/æ/g, "ae").replace(/œ/g, "oe");
  };
  // Runs of word characters, split where Han starts or stops: [{han, chars}].
  function runs(text) {
    var out = [], current = null;
    for (var c of text) {
      if (!WORD_CHAR.test(c)) {
        current = null;
        continue;
      }
      var han = isHan(c.codePointAt(0));
      if (current && current.han === han) current.chars.push(c);
      else out.push((current = { han: han, chars: [c] }));
    }
    return out;
  }
  function hanGrams(chars) {
    if (chars.length === 1) return [chars[0]];
    var grams = [];
    for (var i = 0; i + 1 < chars.length; i++) grams.push(chars[i] + chars[i + 1]);
    return grams;
  }
  // The search terms of a text: [{term, word, han}].
  Processor.prototype.tokens = function (text) {
    var self = this, tokens = [];
    runs(this.normalize(text)).forEach(function (run) {
      if (run.han) {
        hanGrams(run.chars).forEach(function (gram) {
          tokens.push({ term: gram, word: gram, han: true });
        });
      } else if (run.chars.length > 1) {
        var word = run.chars.join("");
        tokens.push({ term: self.stem(word), word: word, han: false });
      }
    });
    return tokens;
  };
  api.Processor = Processor;

  // ------------------------------------------------------------ the index
  var PREFIX_WEIGHT = 0.8; // a word the reader is still typing
  var TYPO_WEIGHT = 0.6; // a word one edit away
  var MAX_EXPANSIONS = 40; // terms a prefix or a typo may stand for, most frequent first
  var MAX_SCOPE_SHARDS = 3; // shards a prefix or a typo may look through
  var TYPO_MIN_LENGTH = 5;
  var CHUNK_DOCS = 32; // documents per chunk: an id is chunk * 32 + index

  // Optimal string alignment distance, stopping early above 1.
  function withinOneEdit(a, b) {
    if (a === b) return true;
    var la = a.length, lb = b.length;
    if (Math.abs(la - lb) > 1) return false;
    var i = 0;
    while (i < la && i < lb && a[i] === b[i]) i++;
    if (la === lb) {
      if (a.slice(i + 1) === b.slice(i + 1)) return true;
      return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
    }
    return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
  }

  function Index(base, manifest, processor, load) {
    this.base = base;
    this.manifest = manifest;
    this.processor = processor;
    this.load = load;
    this.files = {};
  }
  // Opens the index below `base` (`/en/search/`); `load(url)` returns a promise of the
  // file's text (fetch in the browser, a file reader in tests).
  api.open = function (base, load, stemmerFor) {
    return load(base + "index.json").then(function (text) {
      var manifest = JSON.parse(text);
      var stemmer = manifest.text.stemmer;
      var stem = stemmer ? stemmerFor(stemmer.name, stemmer.url) : Promise.resolve(null);
      return stem.then(function (fn) {
        return new Index(base, manifest, new Processor(manifest.text, fn), load);
      });
    });
  };
  var I = Index.prototype;
  // A file of the index, fetched once. Shards and tails are named by their content
  // (`named`): they need no version, and a reader's cache keeps them across builds.
  I.file = function (path) {
    var self = this;
    if (!this.files[path]) {
      var immutable = /^[st]\/[0-9a-f]+\.json$/.test(path);
      this.files[path] = this.load(this.base + path + (immutable ? "" : "?v=" + this.manifest.v)).then(JSON.parse);
      this.files[path].catch(function () {
        delete self.files[path];
      });
    }
    return this.files[path];
  };
  // The last of `list` (sorted) that is not after `key`; `at(i)` reads entry i.
  function lastNotAfter(list, key, at) {
    var lo = 0, hi = list.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (at(list[mid]) <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  function itself(entry) {
    return entry;
  }
  function separatorOf(entry) {
    return entry[0];
  }
  // The shards that may hold `key` and, with `more`, the keys it begins (at most
  // MAX_SCOPE_SHARDS, within one directory file): a promise of shard names.
  I.shardsFor = function (key, more) {
    var k = lastNotAfter(this.manifest.dirs, key, itself);
    return this.file("s/dir-" + k + ".json").then(function (entries) {
      var first = lastNotAfter(entries, key, separatorOf), list = [entries[first][1]];
      for (var n = first + 1; more && n < entries.length && entries[n][0].startsWith(key) && list.length < MAX_SCOPE_SHARDS; n++) {
        list.push(entries[n][1]);
      }
      return list;
    });
  };
  // The union of the shards for several keys.
  I.scope = function (keys, more) {
    var self = this;
    return Promise.all(
      unique(keys).map(function (key) {
        return self.shardsFor(key, more);
      })
    ).then(function (lists) {
      return unique([].concat.apply([], lists));
    });
  };
  I.shards = function (names) {
    var self = this;
    return Promise.all(
      names.map(function (name) {
        return self.file("s/" + name + ".json");
      })
    );
  };
  // Every loaded shard's term and alias rows, found by key.
  function lookup(shards, key) {
    var found = { term: null, alias: null };
    shards.forEach(function (shard) {
      shard.t.forEach(function (row) {
        if (row[0] === key) found.term = row;
      });
      shard.a.forEach(function (row) {
        if (row[0] === key) found.alias = row[1];
      });
    });
    return found;
  }

  // What each query token may stand for: {term: weight}, after loading the shards needed.
  I.expand = function (token, isLast) {
    var self = this, word = token.word, term = token.term;
    var prefix = isLast && (token.han ? word.length === 1 : word.length >= 2);
    return this.scope([term, word], prefix).then(function (scope) {
      return self.shards(scope);
    }).then(function (shards) {
      var weights = {}, stems = [];
      var exact = lookup(shards, term);
      if (exact.term) weights[term] = 1;
      if (prefix) {
        var candidates = {};
        shards.forEach(function (shard) {
          shard.t.forEach(function (row) {
            if (row[0] !== term && (row[0].startsWith(word) || (term.length > 1 && row[0].startsWith(term)))) {
              candidates[row[0]] = row[1];
            }
          });
          shard.a.forEach(function (row) {
            if (row[0].startsWith(word)) stems.push(row[1]);
          });
        });
        best(candidates).forEach(function (key) {
          if (!weights[key]) weights[key] = PREFIX_WEIGHT;
        });
      }
      if (Object.keys(weights).length || stems.length || token.han || word.length < TYPO_MIN_LENGTH) {
        return self.addStems(weights, stems, PREFIX_WEIGHT);
      }
      // Nothing starts like the word: allow one typo after its first two letters.
      return self.scope([word.slice(0, 2)], true).then(function (scope) {
        return self.shards(scope);
      }).then(function (near) {
        var candidates = {};
        near.forEach(function (shard) {
          shard.t.forEach(function (row) {
            if (withinOneEdit(row[0], word) || withinOneEdit(row[0], term)) candidates[row[0]] = row[1];
          });
          shard.a.forEach(function (row) {
            if (withinOneEdit(row[0], word)) stems.push(row[1]);
          });
        });
        best(candidates).forEach(function (key) {
          weights[key] = TYPO_WEIGHT;
        });
        return self.addStems(weights, stems, TYPO_WEIGHT);
      });
    });
  };
  // Adds the stems of words found by prefix or typo, loading their shards.
  I.addStems = function (weights, stems, weight) {
    var self = this;
    stems = unique(stems).filter(function (stem) {
      return !weights[stem];
    });
    return this.scope(stems, false).then(function (scope) {
      return self.shards(scope);
    }).then(function (shards) {
      stems.forEach(function (stem) {
        if (lookup(shards, stem).term) weights[stem] = weight;
      });
      return weights;
    });
  };
  function best(candidates) {
    return Object.keys(candidates)
      .sort(function (a, b) {
        return candidates[b] - candidates[a] || (a < b ? -1 : 1);
      })
      .slice(0, MAX_EXPANSIONS);
  }
  function unique(list) {
    return list.filter(function (x, i) {
      return list.indexOf(x) === i;
    });
  }

  // Runs a query. `typing` means the last word may be unfinished (prefix matching).
  // Resolves to {results: [{chunk, index, score}], terms: {term: true}, complete}.
  I.search = function (query, typing, withTails) {
    var self = this;
    var tokens = uniqueTokens(this.processor.tokens(query));
    return Promise.all(
      tokens.map(function (token, i) {
        return self.expand(token, typing && i === tokens.length - 1);
      })
    ).then(function (expansions) {
      return self.score(expansions, withTails);
    });
  };
  function uniqueTokens(tokens) {
    var seen = {};
    return tokens.filter(function (t) {
      if (seen[t.term]) return false;
      return (seen[t.term] = true);
    });
  }
  I.rows = function (terms) {
    var self = this;
    return this.scope(terms, false).then(function (scope) {
      return self.shards(scope);
    }).then(function (shards) {
      return terms.map(function (term) {
        return lookup(shards, term).term;
      });
    });
  };
  I.score = function (expansions, withTails) {
    var self = this;
    var all = unique([].concat.apply([], expansions.map(Object.keys)));
    return this.rows(all).then(function (rows) {
      var tails = rows.map(function (row) {
        return row.length > 3 && withTails ? self.file("t/" + row[3] + ".json") : Promise.resolve("");
      });
      return Promise.all(tails).then(function (tailLists) {
        var postings = {}, complete = true;
        rows.forEach(function (row, n) {
          postings[row[0]] = decode(row[2]).concat(decode(tailLists[n]));
          if (row.length > 3 && !withTails) complete = false;
        });
        return rank(expansions, postings, complete);
      });
    });
  };
  // Postings (see src/search/mod.rs): base-64 varints, pairs of (id - previous id, score),
  // decoded to [id, score, id, score, ...].
  var DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  function decode(text) {
    var numbers = [], value = 0, shift = 0, id = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = DIGITS.indexOf(text[i]);
      value += (digit & 31) * Math.pow(2, shift);
      if (digit >= 32) {
        shift += 5;
        continue;
      }
      if (numbers.length % 2 === 0) value = id += value;
      numbers.push(value);
      value = 0;
      shift = 0;
    }
    return numbers;
  }
  // Each token scores a document by its best alternative; documents matching every
  // token come first (and alone, when there are any), then by total score.
  function rank(expansions, postings, complete) {
    var docs = {};
    expansions.forEach(function (weights, t) {
      Object.keys(weights).forEach(function (term) {
        var list = postings[term];
        for (var p = 0; p < list.length; p += 2) {
          var id = list[p];
          var doc = docs[id] || (docs[id] = { chunk: Math.floor(id / CHUNK_DOCS), index: id % CHUNK_DOCS, best: [] });
          doc.best[t] = Math.max(doc.best[t] || 0, list[p + 1] * weights[term]);
        }
      });
    });
    var results = Object.keys(docs).map(function (key) {
      var doc = docs[key], matched = 0, score = 0;
      doc.best.forEach(function (s) {
        if (s) {
          matched++;
          score += s;
        }
      });
      return { chunk: doc.chunk, index: doc.index, matched: matched, score: score };
    });
    var all = results.filter(function (r) {
      return r.matched === expansions.length;
    });
    if (all.length) results = all;
    results.sort(function (a, b) {
      return b.matched - a.matched || b.score - a.score || a.chunk - b.chunk || a.index - b.index;
    });
    var terms = {};
    expansions.forEach(function (weights) {
      Object.keys(weights).forEach(function (term) {
        terms[term] = true;
      });
    });
    return { results: results, terms: terms, complete: complete };
  }
  // The documents of some results: [{url, title, heading, text, lang}].
  I.documents = function (results) {
    var self = this;
    return Promise.all(
      results.map(function (r) {
        return self.file("d/" + r.chunk + ".json").then(function (chunk) {
          var row = chunk[r.index];
          return { url: row[0], title: row[1], heading: row[2], text: row[3], lang: row[4] };
        });
      })
    );
  };

  // ------------------------------------------------------------ excerpts
  var EXCERPT_BEFORE = 60;
  var EXCERPT_LENGTH = 220;
  function escapeHtml(text) {
    return text.replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  // The [start, end) UTF-16 ranges of `text` whose terms are in `terms`.
  I.matches = function (text, terms) {
    var self = this, ranges = [], m;
    WORD_RUN.lastIndex = 0;
    while ((m = WORD_RUN.exec(text))) {
      var at = m.index;
      runs(m[0]).forEach(function (run) {
        var length = run.chars.join("").length;
        if (run.han) {
          var offsets = [], o = at;
          run.chars.forEach(function (c) {
            offsets.push(o);
            o += c.length;
          });
          offsets.push(o);
          hanGrams(run.chars).forEach(function (gram, g) {
            if (terms[self.processor.normalize(gram)]) {
              ranges.push([offsets[g], offsets[Math.min(g + [...gram].length, run.chars.length)]]);
            }
          });
        } else {
          var matched = self.processor.tokens(run.chars.join("")).some(function (t) {
            return terms[t.term];
          });
          if (matched) ranges.push([at, at + length]);
        }
        at += length;
      });
    }
    return ranges;
  };
  // HTML of `text` around its first match (or its start), matches in <mark>.
  I.excerpt = function (text, terms, whole) {
    var ranges = this.matches(text, terms);
    var start = 0, end = text.length;
    if (!whole && text.length > EXCERPT_LENGTH) {
      start = ranges.length ? Math.max(0, ranges[0][0] - EXCERPT_BEFORE) : 0;
      if (start > 0) start = Math.max(start, text.indexOf(" ", start) + 1);
      end = Math.min(text.length, start + EXCERPT_LENGTH);
      var space = text.lastIndexOf(" ", end);
      if (end < text.length && space > start + EXCERPT_LENGTH / 2) end = space;
    }
    var html = start > 0 ? "…" : "", at = start;
    ranges.forEach(function (r) {
      if (r[0] < at || r[1] > end) return;
      html += escapeHtml(text.slice(at, r[0])) + "<mark>" + escapeHtml(text.slice(r[0], r[1])) + "</mark>";
      at = r[1];
    });
    html += escapeHtml(text.slice(at, end)) + (end < text.length ? "…" : "");
    return html;
  };

  // ------------------------------------------------------------ the page
  var PAGE_SIZE = 10;
  var PANEL_SIZE = 5;

  function loadText(url) {
    return fetch(url).then(function (response) {
      if (!response.ok) throw new Error(url + ": " + response.status);
      return response.text();
    });
  }

  var opened = null;
  function openIndex() {
    if (!opened) {
      opened = api.open(document.body.getAttribute("data-search-base"), loadText, api.stemmer);
      opened.catch(function () {
        opened = null;
      });
    }
    return opened;
  }

  function countText(index, n) {
    var lang = index.manifest.lang, forms = index.manifest.results;
    var category = new Intl.PluralRules(lang).select(n);
    var form = forms[category] || forms.other || "{count}";
    return form.replace("{count}", new Intl.NumberFormat(lang).format(n));
  }

  // A search UI: an input, a status line (live region) and a results list.
  function Searcher(input, container, limit, onResults) {
    this.input = input;
    this.container = container;
    this.limit = limit;
    this.onResults = onResults;
    this.status = container.querySelector(".search-status");
    this.list = container.querySelector(".search-result-list");
    this.more = container.querySelector(".search-more");
    this.serial = 0;
  }
  var U = Searcher.prototype;
  U.run = function (query, typing, retried) {
    var self = this, serial = ++this.serial;
    this.query = query;
    if (!query.trim()) {
      this.show([], null, "");
      return Promise.resolve();
    }
    return openIndex()
      .then(function (index) {
        self.index = index;
        return index.search(query, typing, false).then(function (found) {
          if (serial !== self.serial) return;
          self.found = found;
          self.shown = 0;
          return self.page(self.limit);
        });
      })
      .catch(function () {
        if (serial !== self.serial) return;
        // The site may have been published again since the index was opened, its shards
        // named anew: the index is opened afresh, once, before the error shows.
        if (!retried) {
          opened = null;
          return self.run(query, typing, true);
        }
        self.show([], null, document.body.getAttribute("data-search-error") || "");
      });
  };
  // Shows `n` more results, loading their documents (and the tails, past the heads).
  U.page = function (n) {
    var self = this, serial = this.serial, found = this.found, index = this.index;
    var next = found.results.length <= this.shown + n || found.complete
      ? Promise.resolve(found)
      : index.search(this.query, false, true);
    return next.then(function (all) {
      self.found = all;
      var wanted = all.results.slice(0, self.shown + n);
      return index.documents(wanted).then(function (docs) {
        if (serial !== self.serial) return;
        self.shown = docs.length;
        var status = all.results.length
          ? countText(index, all.results.length) + (all.complete ? "" : "+")
          : index.manifest.strings.search_no_results.replace("{query}", self.query.trim());
        self.show(docs, all, status);
      });
    });
  };
  U.show = function (docs, found, status) {
    var self = this, index = this.index;
    this.status.textContent = status;
    // Which query the list shows, for scripts (and tests) that wait for it.
    this.container.setAttribute("data-query", found ? this.query : "");
    this.list.innerHTML = "";
    docs.forEach(function (doc) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = doc.url;
      link.className = "search-result";
      var title = document.createElement("span");
      title.className = "search-result-title";
      title.textContent = doc.title;
      link.appendChild(title);
      if (doc.heading && doc.heading !== doc.title) {
        var section = document.createElement("span");
        section.className = "search-result-section";
        section.innerHTML = index.excerpt(doc.heading, found.terms, true);
        link.appendChild(section);
      }
      var excerpt = document.createElement("span");
      excerpt.className = "search-result-excerpt";
      excerpt.innerHTML = index.excerpt(doc.text, found.terms, false);
      link.appendChild(excerpt);
      if (doc.lang) link.lang = doc.lang;
      item.appendChild(link);
      self.list.appendChild(item);
    });
    if (this.more) {
      this.more.hidden = !found || found.results.length <= docs.length;
      if (index) this.more.textContent = index.manifest.strings.search_more;
    }
    if (this.onResults) this.onResults(docs.length > 0);
  };
  // Arrow keys move between the input and the results; Escape returns to the input.
  U.keys = function (event) {
    var links = Array.prototype.slice.call(this.list.querySelectorAll("a"));
    var at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && links.length) {
      links[Math.min(at + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      (at === 0 ? this.input : links[at - 1]).focus();
    } else if (event.key === "Escape" && at >= 0) {
      this.input.focus();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  };

  function debounce(fn, ms) {
    var timer;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function resultsMarkup(container) {
    container.insertAdjacentHTML(
      "beforeend",
      '<p class="search-status" role="status"></p><ol class="search-result-list"></ol>'
    );
  }

  // The search page: reads ?q=, searches as the reader types, keeps ?q= current.
  function initPage(results) {
    var input = document.getElementById("search-page-input");
    var form = input.form;
    var needsJs = results.querySelector(".search-needs-js");
    if (needsJs) needsJs.hidden = true;
    var more = document.createElement("button");
    more.type = "button";
    more.className = "search-more";
    more.hidden = true;
    results.appendChild(more);
    var searcher = new Searcher(input, results, PAGE_SIZE);
    more.addEventListener("click", function () {
      var first = searcher.shown;
      searcher.page(PAGE_SIZE).then(function () {
        var link = searcher.list.querySelectorAll("a")[first];
        if (link) link.focus();
      });
    });
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    searcher.status.textContent = input.value ? results.getAttribute("data-loading") : results.getAttribute("data-prompt");
    function update(typing) {
      var url = new URL(location.href);
      if (input.value) url.searchParams.set("q", input.value);
      else url.searchParams.delete("q");
      history.replaceState(null, "", url);
      if (!input.value.trim()) {
        searcher.serial++;
        searcher.list.innerHTML = "";
        more.hidden = true;
        searcher.status.textContent = results.getAttribute("data-prompt");
        return;
      }
      searcher.run(input.value, typing);
    }
    input.addEventListener("input", debounce(function () {
      update(!/\s$/.test(input.value));
    }, 120));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      update(false);
    });
    results.addEventListener("keydown", function (event) {
      searcher.keys(event);
    });
    input.addEventListener("keydown", function (event) {
      searcher.keys(event);
    });
    if (input.value) update(false);
    else openIndex();
  }

  // The header box: results in a panel under the header as the reader types.
  function initHeader(input) {
    var form = input.form;
    var panel = document.createElement("div");
    panel.className = "search-panel";
    panel.id = "site-search-panel";
    panel.hidden = true;
    resultsMarkup(panel);
    var all = document.createElement("a");
    all.className = "search-all";
    panel.appendChild(all);
    form.appendChild(panel);
    input.setAttribute("aria-controls", panel.id);
    var searcher = new Searcher(input, panel, PANEL_SIZE, function (any) {
      all.hidden = !any;
    });
    function close() {
      panel.hidden = true;
    }
    input.addEventListener("input", debounce(function () {
      var query = input.value;
      if (!query.trim()) return close();
      panel.hidden = false;
      searcher.run(query, !/\s$/.test(query)).then(function () {
        if (searcher.index) all.textContent = searcher.index.manifest.strings.search_all_results;
        all.href = form.action + "?q=" + encodeURIComponent(query);
      });
    }, 120));
    form.addEventListener("keydown", function (event) {
      if (searcher.keys(event)) return;
      if (event.key === "Escape") {
        close();
        input.focus();
      }
    });
    form.addEventListener("focusout", function (event) {
      if (!form.contains(event.relatedTarget)) close();
    });
    input.addEventListener("focus", function () {
      if (input.value.trim() && searcher.list.children.length) panel.hidden = false;
    });
    // Words typed while this script was loading.
    if (input.value.trim() && document.activeElement === input) input.dispatchEvent(new Event("input"));
  }

  function init() {
    var results = document.getElementById("search-results");
    if (results && document.getElementById("search-page-input")) initPage(results);
    var header = document.getElementById("site-search");
    if (header) initHeader(header);
    openIndex();
  }

  if (typeof document !== "undefined" && document.body && document.body.getAttribute("data-search-base")) init();
})(typeof self !== "undefined" ? self : globalThis);

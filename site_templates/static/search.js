/* docmirror static search.
 *
 * Works from file:// with no server: the index is a set of JavaScript files loaded with
 * <script> (browsers forbid fetch on file://). Every step is a port of mirror/search/query.py
 * (parse, completions, typo correction, BM25F blended with page scores, exact API names and
 * names being typed first, headings that are the query next, phrases, grouping by page) over
 * the index that mirror/search/export.py exports, and the snippets are those of
 * mirror/search/snippets.py, so results equal `docmirror search`'s. Keep the two in step.
 * The rules' constants are not written here: meta.js carries them (export.export_settings:
 * ranking, limits, snippet size, file names, and the analysis rules that loadMeta hands to
 * analysis.js before anything is analysed), as `meta.*`.
 * Results are built as DOM nodes with textContent: nothing from a source is parsed as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var root = (script && script.getAttribute("data-root")) || "";
  var base = root + "_static/search/";  // where mirror.site.render.SEARCH_DIR puts the index
  var A = window.DocmirrorAnalysis;
  function tokenSpans(text) {  // the words (analysis.WORD) of text: [start, end] in UTF-16 units
    return A.wordMatches(text).map(function (m) { return [m.index, m.index + m[0].length]; });
  }
  var waiting = {};
  var meta = null;
  var shards = {};
  var texts = {};  // document -> its text (the first STATIC_TEXT_CHARS), from the text blocks
  var headings = {};  // document -> [anchor, heading], from the heading blocks
  var pageData = {};  // page number -> [path, title, url], from the page blocks loaded
  var vocabularies = {};
  var firsts = [], shardSet = null, splitSet = null;  // from meta: pages' first documents, files

  function deferred(name) {
    if (!waiting[name]) {
      var entry = {};
      entry.promise = new Promise(function (resolve, reject) {
        entry.resolve = resolve;
        entry.reject = reject;
      });
      waiting[name] = entry;
    }
    return waiting[name];
  }

  function load(name) {
    var entry = deferred(name);
    if (!entry.requested) {
      entry.requested = true;
      var el = document.createElement("script");
      el.src = base + name;
      el.async = true;
      el.onerror = function () { entry.reject(new Error("search index file missing: " + name)); };
      document.head.appendChild(el);
    }
    return entry.promise;
  }

  window.DocmirrorSearch = {
    loadMeta: function (data) {
      A.configure(data.analysis);  // the analysis rules, before anything is analysed
      meta = data;
      var first = 0;  // meta.pageStarts is delta-coded
      firsts = data.pageStarts.map(function (d) { first += d; return first; });
      shardSet = new Set(data.shards ? data.shards.split(" ") : []);
      splitSet = new Set(data.split ? data.split.split(" ") : []);
      deferred("meta.js").resolve(data);
    },
    loadShard: function (name, terms) { shards[name] = terms; deferred(name).resolve(terms); },
    loadText: function (name, docs) {
      Object.keys(docs).forEach(function (d) { texts[d] = docs[d]; });
      deferred(name).resolve(docs);
    },
    loadHeadings: function (name, docs) {
      Object.keys(docs).forEach(function (d) { headings[d] = docs[d]; });
      deferred(name).resolve(docs);
    },
    loadPages: function (name, pages) {
      Object.keys(pages).forEach(function (p) { pageData[p] = pages[p]; });
      deferred(name).resolve(pages);
    },
    loadVocabulary: function (name, words) { vocabularies[name] = words; deferred(name).resolve(words); },
    search: search
  };

  /* -- the exported files (mirror/search/export.py) --------------------------------------- */

  /* export.shard_name: the file of the terms (or vocabulary words: `kind`) starting like `term`,
   * by its first `chars` characters, those but ASCII letters and digits as "_" and their hex
   * code point */
  function shardName(term, chars, kind) {
    var prefix = Array.from(term).slice(0, chars);
    var safe = prefix.map(function (c) {
      return /^[A-Za-z0-9]$/.test(c) ? c : "_" + c.codePointAt(0).toString(16);  // hex
    }).join("");
    return kind + "-" + safe.toLowerCase() + ".js";
  }

  /* export.shard_for; meta.shards and meta.split list shards as `ab` for t-ab.js */
  function shardKey(name) { return name.slice(meta.kinds.terms.length + 1, -3); }
  function shardFor(term) {
    var name = shardName(term, meta.shardChars, meta.kinds.terms);
    return splitSet.has(shardKey(name)) ? shardName(term, meta.splitShardChars, meta.kinds.terms) : name;
  }

  // a page's entry in its block: [path, title, url] (export.static_files)
  var PAGE_PATH = 0, PAGE_TITLE = 1, PAGE_URL = 2;
  function pageOf(doc) {  // the page number: pages hold consecutive documents from their first on
    var lo = 0, hi = firsts.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;  // binary search: the middle, rounded up
      if (firsts[mid] <= doc) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  /* the source (its name) of page number `page`: meta.pageSources holds runs, [first page,
   * source number] flattened */
  function sourceOf(page) {
    var runs = meta.pageSources, found = 0;
    for (var i = 0; i < runs.length && runs[i] <= page; i += 2) found = runs[i + 1];
    return meta.sources[found];
  }

  /* export.page_block_name */
  function pageBlock(page) { return meta.kinds.pages + "-" + Math.floor(page / meta.pageBlock) + ".js"; }

  /* export.text_block_name, export.heading_block_name */
  function textBlock(doc) { return meta.kinds.texts + "-" + Math.floor(doc / meta.textBlock) + ".js"; }
  function headingBlock(doc) {
    return meta.kinds.headings + "-" + Math.floor(doc / meta.headingBlock) + ".js";
  }
  // a document's entry in its heading block: [anchor, section] (export.static_files)
  var DOC_ANCHOR = 0, DOC_SECTION = 1;

  /* -- ranking (mirror/search/query.py) ---------------------------------------------------- */

  function unique(list) {
    var seen = new Set();
    return list.filter(function (x) { if (!x || seen.has(x)) return false; seen.add(x); return true; });
  }

  function codePoints(s) { return Array.from(s); }
  function compareCodePoints(a, b) {  // Python's str order
    var x = codePoints(a), y = codePoints(b);
    for (var i = 0; i < Math.min(x.length, y.length); i++) {
      var d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d) return d;
    }
    return x.length - y.length;
  }

  /* query.parse_query */
  function parseQuery(text) {
    var words = [], position = 0;
    text.split(meta.quote).forEach(function (segment, number) {
      var inside = number % 2 === 1;  // segments alternate: outside quotes, inside, outside...
      var found = A.nameMatches(segment);
      var phrase = inside && found.length > 1 ? Math.floor(number / 2) : -1;  // its number
      found.forEach(function (match) {
        var start = position + match.index;
        var last = start + match[0].length === text.length;
        words.push({ text: match[0], start: start, phrase: phrase, last: last && phrase < 0 });
      });
      position += segment.length + meta.quote.length;
    });
    return words.slice(0, meta.maxWords);
  }

  function analyzers(field, word) {
    return field === "symbols" ? A.symbolTerms(word) : A.textTerms(word);
  }

  /* query.alternatives */
  function alternatives(word) {
    var found = [];
    meta.fields.forEach(function (field) {
      unique(analyzers(field, word)).forEach(function (term) { found.push([field, term]); });
    });
    return found;
  }

  function termKey(field) {  // the start of a term's key in the shards: `code:` (export.FIELD_CODES)
    return meta.codes[meta.fields.indexOf(field)] + ":";
  }

  function entryOf(field, term) {
    var shard = shards[shardFor(term)];
    var entry = shard && shard[termKey(field) + term];
    return entry || null;
  }

  function loadTerms(pairs) {
    var needed = unique(pairs.map(function (p) { return shardFor(p[1]); }))
      .filter(function (name) { return shardSet.has(shardKey(name)); });
    return Promise.all(needed.map(load));
  }

  /* index.ReaderTerms.completions over a shard */
  function completions(field, prefix, count) {
    var shard = shards[shardFor(prefix)] || {};
    var head = termKey(field);
    var terms = Object.keys(shard).filter(function (key) {
      return key.startsWith(head + prefix);
    }).map(function (key) { return key.slice(head.length); });
    terms.sort(function (a, b) {
      return codePoints(a).length - codePoints(b).length || compareCodePoints(a, b);
    });
    return terms.slice(0, count);
  }

  /* the vocabulary file of the words starting like `word` (export.static_files) */
  function vocabularyFile(word) { return shardName(word, meta.vocabularyChars, meta.kinds.vocabulary); }

  /* query.correction; resolves to the corrected word or null */
  function correction(word) {
    var lowered = word.toLowerCase(), length = codePoints(lowered).length;
    if (length < meta.correctionMinChars || !A.isWord(lowered)) return Promise.resolve(null);
    var edits = meta.correctionEdits;
    var limit = length <= meta.correctionShortChars ? edits[0] : edits[1];
    var name = vocabularyFile(lowered);  // its words share the first letter
    if (meta.vocabulary.indexOf(name) < 0) return Promise.resolve(null);
    return load(name).then(function () {
      var words = vocabularies[name], best = null;
      Object.keys(words).forEach(function (candidate) {
        if (candidate === lowered || Math.abs(codePoints(candidate).length - length) > limit) return;
        var distance = A.editDistance(lowered, candidate, limit);
        if (distance > limit) return;
        var key = [distance, -words[candidate], candidate];
        if (!best || key[0] < best[0] || (key[0] === best[0] && (key[1] < best[1]
            || (key[1] === best[1] && compareCodePoints(key[2], best[2]) < 0)))) best = key;
      });
      return best ? best[2] : null;
    });
  }

  /* query.corrected_word; resolves to the corrected word or null */
  function correctedWord(word) {
    if (word.indexOf(".") < 0) return correction(word);
    var parts = [], chain = Promise.resolve();
    word.split(".").forEach(function (part, i) {
      chain = chain.then(function () {
        var known = !part || meta.textFields.some(function (f) {
          return analyzers(f, part).some(function (t) { return entryOf(f, t); });
        });
        if (known) { parts[i] = part; return; }
        return correction(part).then(function (c) { parts[i] = c || part; });
      });
    });
    return chain.then(function () {
      var fixed = parts.join(".");
      return fixed !== word ? fixed : null;
    });
  }

  /* query.plan_query; resolves to {words, lookups, suggestion, exact} */
  function planQuery(text) {
    var words = parseQuery(text).filter(function (w) {  // stop words out, dotted names stay
      return A.textTerms(w.text).length || w.text.indexOf(".") >= 0;
    });
    var pairs = [];
    words.forEach(function (w) { pairs = pairs.concat(alternatives(w.text)); });
    function indexed(word) {
      return alternatives(word).filter(function (p) { return entryOf(p[0], p[1]); })
        .map(function (p) { return [p[0], p[1], false]; });
    }
    var corrected = [], fixed = [];
    return loadTerms(pairs).then(function () {
      var lookups = [];
      var chain = Promise.resolve();
      words.forEach(function (word, number) {
        chain = chain.then(function () {
          var own = indexed(word.text);
          if (!word.last || codePoints(word.text).length < meta.prefixMin) return own;
          var named = own.some(function (l) { return l[0] === "symbols"; });
          var fields = meta.fields.filter(function (f) {
            return !own.length || (f === "symbols" && !named);
          });
          var prefix = word.text.toLowerCase();
          return loadTerms(fields.map(function (f) { return [f, prefix]; })).then(function () {
            fields.forEach(function (field) {
              completions(field, prefix, meta.prefixTerms).forEach(function (t) { own.push([field, t, true]); });
            });
            return own;
          });
        }).then(function (own) {
          var named = own.some(function (l) { return l[0] === "symbols"; });
          if (own.length && (word.text.indexOf(".") < 0 || named)) return own;
          return correctedWord(word.text).then(function (better) {
            if (better === null) return own;
            fixed[number] = better;
            corrected.push([word, better]);
            return loadTerms(alternatives(better)).then(function () { return indexed(better); });
          });
        }).then(function (own) { lookups[number] = own; });
      });
      return chain.then(function () {
        var suggestion = "";
        if (corrected.length) {
          var parts = [], position = 0;
          corrected.forEach(function (c) {
            parts.push(text.slice(position, c[0].start), c[1]);
            position = c[0].start + c[0].text.length;
          });
          suggestion = parts.join("") + text.slice(position);
        }
        var typed = words.map(function (w, i) { return fixed[i] || w.text; });
        var exact = null;
        if (words.length === 1 && words[0].phrase < 0 && lookups[0].length) {
          var names = A.symbolTerms(typed[0]);  // as corrected
          if (names.length && lookups[0].some(function (l) {
            return l[0] === "symbols" && l[1] === names[0] && !l[2];
          })) exact = names[0];
        }
        var plan = { words: words, lookups: lookups, suggestion: suggestion, exact: exact, texts: typed };
        return joinedNames(typed).then(function (joins) {
          plan.joins = joins;
          if (exact !== null || words.some(function (w) { return w.phrase >= 0; })) return plan;
          var whole = joins.filter(function (j) { return j[2] - j[1] === words.length; })[0];
          if (whole) { plan.exact = whole[0]; return plan; }
          if (!words.length) return plan;
          return typedName(words.map(function (w) { return w.text; }), words[words.length - 1].last)
            .then(function (name) {
              if (name === null) return plan;
              plan.exact = name;
              if (words.length > 1) plan.joins = joins.concat([[name, 0, words.length]]);
              return plan;
            });
        });
      });
    });
  }

  /* index.ReaderTerms.frequency; resolves to the pages holding the word */
  function frequency(word) {
    var name = vocabularyFile(word);
    if (meta.vocabulary.indexOf(name) < 0) return Promise.resolve(0);
    return load(name).then(function () { return vocabularies[name][word] || 0; });
  }

  /* query.typed_name; resolves to the name or null */
  function typedName(texts, typing) {
    var parts = texts[texts.length - 1].split(".");
    var last = parts[parts.length - 1].toLowerCase();
    if (!typing || texts.length > meta.typedNameWords || codePoints(last).length < meta.prefixMin) {
      return Promise.resolve(null);
    }
    return frequency(last).then(function (count) {
      if (count) return null;
      var lowered = texts.map(function (t) { return t.toLowerCase(); });
      var names = (texts.length > 1 ? meta.joins : [""]).map(function (glue) { return lowered.join(glue); });
      return loadTerms(names.map(function (name) { return ["symbols", name]; })).then(function () {
        for (var i = 0; i < names.length; i++) {
          var found = completions("symbols", names[i], 1);  // the shortest
          if (found.length) return found[0];
        }
        return null;
      });
    });
  }

  /* query.word_terms */
  function wordTerms(text) {
    var found = [];
    A.wordMatches(text).forEach(function (m) { found = found.concat(A.textTerms(m[0])); });
    return found;
  }

  /* query.titled_as_query; resolves to a Set of documents */
  function titledAsQuery(plan, ordered, matched) {
    var wanted = new Set();
    plan.texts.forEach(function (t) { A.textTerms(t).forEach(function (term) { wanted.add(term); }); });
    if (!wanted.size) return Promise.resolve(new Set());
    var candidates = ordered.filter(function (d) {
      return matched.get(d).size === plan.words.length;
    }).slice(0, meta.headingCandidates);
    return loadHeadings(candidates).then(function () {
      return new Set(candidates.filter(function (d) {
        var terms = new Set(wordTerms(headings[d][DOC_SECTION]));
        return terms.size === wanted.size && Array.from(wanted).every(function (t) { return terms.has(t); });
      }));
    });
  }

  /* query.boost_of */
  function boostOf(field, term, completion) {
    if (field === "symbols" && term.indexOf(".") < 0 && !completion) return meta.memberBoost;
    return meta.boosts[meta.fields.indexOf(field)];
  }

  /* query.joined_names */
  function joinedNames(texts) {
    var lowered = texts.map(function (t) { return t.toLowerCase(); });
    var candidates = [];
    meta.joinWidths.forEach(function (width) {
      for (var i = 0; i + width <= lowered.length; i++) {
        var run = [];
        meta.joins.forEach(function (glue) { run.push(lowered.slice(i, i + width).join(glue)); });
        candidates.push([run, i, i + width]);
      }
    });
    var pairs = [];
    candidates.forEach(function (c) { c[0].forEach(function (t) { pairs.push(["symbols", t]); }); });
    return loadTerms(pairs).then(function () {
      var found = [];
      candidates.forEach(function (c) {
        var term = c[0].filter(function (t) { return entryOf("symbols", t); })[0];
        if (term !== undefined) found.push([term, c[1], c[2]]);
      });
      return found;
    });
  }

  /* calls visit(doc, weight, length) for each posting of term in field: a term's entry is
   * (document, weight, field length) triples, documents delta-coded (export.static_files) */
  function eachPosting(field, term, visit) {
    var entry = entryOf(field, term);
    if (!entry) return;
    var doc = 0;
    for (var i = 0; i < entry.length; i += 3) {  // a triple at a time
      doc += entry[i];  // delta-coded
      visit(doc, entry[i + 1], entry[i + 2]);
    }
  }

  /* query.idf (BM25's formula, its 1.0 and 0.5 included) */
  function idf(frequency) {
    return Math.log(1.0 + (meta.documents - frequency + 0.5) / (frequency + 0.5));
  }

  /* query.field_frequency */
  function fieldFrequency(weight, boost, length, average) {
    return weight * boost / (1.0 - meta.B + meta.B * length / average);
  }

  /* query.score (BM25F) */
  function score(plan) {
    var totals = new Map(), matched = new Map();
    function add(frequencies, first, end) {
      var weightIdf = idf(frequencies.size);
      frequencies.forEach(function (x, doc) {
        totals.set(doc, (totals.has(doc) ? totals.get(doc) : 0.0) + weightIdf * x * (meta.K1 + 1.0) / (x + meta.K1));
        if (!matched.has(doc)) matched.set(doc, new Set());
        for (var w = first; w < end; w++) matched.get(doc).add(w);
      });
    }
    plan.lookups.forEach(function (lookups, number) {
      var frequencies = new Map(), best = new Map();
      lookups.forEach(function (l) {
        var average = meta.average[meta.fields.indexOf(l[0])], boost = boostOf(l[0], l[1], l[2]);
        eachPosting(l[0], l[1], function (doc, weight, length) {
          var value = fieldFrequency(weight, boost, length, average);
          if (l[2]) best.set(doc, Math.max(best.has(doc) ? best.get(doc) : 0.0, value));
          else frequencies.set(doc, (frequencies.has(doc) ? frequencies.get(doc) : 0.0) + value);
        });
      });
      best.forEach(function (value, doc) {
        frequencies.set(doc, (frequencies.has(doc) ? frequencies.get(doc) : 0.0) + meta.prefixWeight * value);
      });
      add(frequencies, number, number + 1);
    });
    var symbols = meta.fields.indexOf("symbols");
    plan.joins.forEach(function (j) {  // the words typed apart count as the name too
      var frequencies = new Map();
      eachPosting("symbols", j[0], function (doc, weight, length) {
        frequencies.set(doc, fieldFrequency(weight, meta.boosts[symbols], length, meta.average[symbols]));
      });
      add(frequencies, j[1], j[2]);
    });
    var count = plan.lookups.length, scores = new Map();
    totals.forEach(function (total, doc) { scores.set(doc, total * matched.get(doc).size / count); });
    return { scores: scores, matched: matched };
  }

  /* query.with_page_scores; a new Map doc -> score */
  function withPageScores(scores) {
    var pages = new Map();
    scores.forEach(function (value, doc) {
      var page = pageOf(doc);
      if (!pages.has(page)) pages.set(page, []);
      pages.get(page).push(value);
    });
    var pageScores = new Map();
    pages.forEach(function (values, page) {
      values.sort(function (a, b) { return b - a; });
      var sum = 0;
      values.slice(0, meta.pageDocs).forEach(function (v) { sum += v; });
      pageScores.set(page, sum / meta.pageDocs);
    });
    var blended = new Map();
    scores.forEach(function (value, doc) {
      blended.set(doc, (1.0 - meta.pageWeight) * value + meta.pageWeight * pageScores.get(pageOf(doc)));
    });
    return blended;
  }

  /* query.exact_names; a Map doc -> 0 (the whole name) or 1 (its end): the first tiers */
  function exactNames(plan) {
    var found = new Map();
    if (plan.exact === null) return found;
    var parts = plan.exact.split(".").length;
    eachPosting("symbols", plan.exact, function (doc, weight, length) {
      found.set(doc, length !== parts ? 1 : 0);
    });
    return found;
  }

  /* query.holds_phrase */
  function holdsPhrase(text, terms) {
    var found = wordTerms(text);
    for (var i = 0; i + terms.length <= found.length; i++) {
      var same = true;
      for (var j = 0; j < terms.length && same; j++) same = found[i + j] === terms[j];
      if (same) return true;
    }
    return false;
  }

  function loadTexts(docs) { return Promise.all(unique(docs.map(textBlock)).map(load)); }
  function loadHeadings(docs) { return Promise.all(unique(docs.map(headingBlock)).map(load)); }

  /* query.run_query; resolves to {ranked: [[doc, score]], plan}; `sources`: the names of the
   * sources whose hits are kept (all when empty) */
  function runQuery(text, limit, sources) {
    return planQuery(text).then(function (plan) {
      if (!plan.lookups.some(function (l) { return l.length; })) return { ranked: [], plan: plan };
      var scored = score(plan), scores = withPageScores(scored.scores);
      var exact = exactNames(plan);
      function tier(doc) { return exact.has(doc) ? exact.get(doc) : 2; }  // after exact names
      var ordered = Array.from(scores.keys());
      ordered.sort(function (a, b) {
        return (tier(a) - tier(b)) || (scores.get(b) - scores.get(a)) || (a - b);
      });
      if (sources.length) {
        ordered = ordered.filter(function (d) { return sources.indexOf(sourceOf(pageOf(d))) >= 0; });
      }
      return titledAsQuery(plan, ordered, scored.matched).then(function (titled) {
        exact.forEach(function (rank, d) { titled.delete(d); });
        if (titled.size) {  // next after the exact API names
          ordered.sort(function (a, b) {
            return (tier(a) - tier(b)) || (titled.has(b) - titled.has(a))
              || (scores.get(b) - scores.get(a)) || (a - b);
          });
        }
        return phrasesOf(plan, ordered, scored, scores, limit);
      });
    });
  }

  /* query.run_query, from the phrases on; resolves to {ranked, plan} */
  function phrasesOf(plan, ordered, scored, scores, limit) {
    var phrases = {}, inPhrase = [];
    plan.words.forEach(function (w, i) {
      if (w.phrase < 0) return;
      inPhrase.push(i);
      phrases[w.phrase] = (phrases[w.phrase] || []).concat(A.textTerms(w.text));
    });
    var sequences = Object.keys(phrases).map(function (k) { return phrases[k]; })
      .filter(function (terms) { return terms.length > 1; });
    var filtered = Promise.resolve(ordered);
    if (sequences.length) {
      var candidates = ordered.filter(function (d) {
        return inPhrase.every(function (i) { return scored.matched.get(d).has(i); });
      }).slice(0, meta.phraseCandidates);
      filtered = Promise.all([loadTexts(candidates), loadHeadings(candidates)]).then(function () {
        return candidates.filter(function (d) {
          return sequences.every(function (terms) {
            return holdsPhrase(headings[d][DOC_SECTION], terms) || holdsPhrase(texts[d], terms);
          });
        });
      });
    }
    return filtered.then(function (docs) {
      var groups = new Map();  // query.group_by_page
      docs.forEach(function (doc) {
        var page = pageOf(doc);
        if (!groups.has(page)) groups.set(page, []);
        if (groups.get(page).length < meta.groupSize) groups.get(page).push(doc);
      });
      var grouped = [];
      groups.forEach(function (group) { grouped = grouped.concat(group); });
      return { ranked: grouped.slice(0, limit).map(function (d) { return [d, scores.get(d)]; }), plan: plan };
    });
  }

  /* Resolves to {hits: [{path, url, title, section, score, text, terms, source}], suggestion};
   * `sources`: the names of the sources to search (all when empty or left out) */
  function search(text, limit, sources) {
    return load("meta.js").then(function () {
      return runQuery(text, limit || meta.limit, sources || []);
    }).then(function (result) {
      var top = result.ranked;
      var docs = top.map(function (hit) { return hit[0]; });
      var blocks = unique(docs.map(function (d) { return pageBlock(pageOf(d)); }));
      return Promise.all([loadTexts(docs), loadHeadings(docs)].concat(blocks.map(load))).then(function () {
        var terms = new Set();
        result.plan.lookups.forEach(function (lookups) {
          lookups.forEach(function (l) { if (l[0] === "text") terms.add(l[1]); });
        });
        var hits = top.map(function (hit) {
          var number = pageOf(hit[0]), page = pageData[number];
          var doc = headings[hit[0]];
          var anchor = doc[DOC_ANCHOR] ? "#" + doc[DOC_ANCHOR] : "";
          return { path: page[PAGE_PATH] + anchor, url: page[PAGE_URL] + anchor, title: page[PAGE_TITLE],
                   section: doc[DOC_SECTION], score: hit[1], text: texts[hit[0]], terms: terms,
                   source: sourceOf(number) };
        });
        return { hits: hits, suggestion: result.plan.suggestion };
      });
    });
  }

  /* -- display ----------------------------------------------------------------------------- */

  /* snippets.snippet (meta.snippetChars of the text, at most meta.snippetBefore of them before
   * the first match), in code points as Python counts (not UTF-16 units) */
  function snippetNodes(text, terms) {
    var chars = Array.from(text), at = [];  // at: the code point of each UTF-16 offset
    chars.forEach(function (c, i) { for (var k = 0; k < c.length; k++) at.push(i); });
    at.push(chars.length);
    function slice(from, to) { return chars.slice(from, to).join(""); }
    var tokens = tokenSpans(text).filter(function (t) {
      return A.textTerms(text.slice(t[0], t[1])).some(function (term) { return terms.has(term); });
    }).map(function (t) { return [at[t[0]], at[t[1]]]; });
    var start = tokens.length ? Math.max(0, tokens[0][0] - meta.snippetBefore) : 0;
    if (start) {
      var space = chars.indexOf(" ", start);
      if (space >= 0 && space < tokens[0][0]) start = space + 1;
    }
    var end = Math.min(chars.length, start + meta.snippetChars);
    if (end < chars.length) {
      var last = chars.lastIndexOf(" ", end - 1);  // Python's rfind(" ", start, end)
      if (last > start) end = last;
    }
    var nodes = [];
    if (start) nodes.push(document.createTextNode(meta.ellipsis + " "));
    var position = start;
    tokens.forEach(function (t) {
      if (t[0] < start || t[1] > end) return;
      nodes.push(document.createTextNode(slice(position, t[0])));
      var mark = document.createElement("mark");
      mark.textContent = slice(t[0], t[1]);
      nodes.push(mark);
      position = t[1];
    });
    nodes.push(document.createTextNode(slice(position, end) + (end < chars.length ? " " + meta.ellipsis : "")));
    return nodes;
  }

  function show(container, hits, query, suggestion) {
    container.textContent = "";
    if (!query.trim()) { container.hidden = container.classList.contains("search-panel"); return; }
    container.hidden = false;
    if (suggestion) {
      var note = document.createElement("p");
      note.className = "suggestion";
      note.textContent = (hits.length ? "Showing results for “" : "Did you mean “") + suggestion + "”?";
      if (hits.length) note.textContent = note.textContent.slice(0, -1) + ".";
      container.appendChild(note);
    }
    if (!hits.length) {
      var none = document.createElement("p");
      none.className = "no-results";
      none.textContent = "No results for “" + query + "”.";
      container.appendChild(none);
      return;
    }
    var list = document.createElement("ul");
    hits.forEach(function (hit, i) {
      var item = document.createElement("li");
      if (i === 0) item.className = "selected";
      var link = document.createElement("a");
      link.href = root + hit.path.split("/").map(function (part) {
        var hash = part.indexOf("#");
        return hash < 0 ? encodeURIComponent(part)
          : encodeURIComponent(part.slice(0, hash)) + "#" + encodeURIComponent(part.slice(hash + 1));
      }).join("/");
      var strong = document.createElement("strong");
      strong.textContent = hit.section || hit.title;
      link.appendChild(strong);
      item.appendChild(link);
      var several = meta.sources.length > 1;  // then each hit says its source
      if ((hit.section && hit.section !== hit.title) || several) {
        var where = document.createElement("div");
        where.className = "where";
        where.textContent = hit.section && hit.section !== hit.title ? hit.title : "";
        if (several) {
          var source = document.createElement("span");
          source.className = "source";
          source.textContent = (where.textContent ? " · " : "") + hit.source;
          where.appendChild(source);
        }
        item.appendChild(where);
      }
      var snippet = document.createElement("p");
      snippet.className = "snippet";
      snippetNodes(hit.text, hit.terms).forEach(function (n) { snippet.appendChild(n); });
      item.appendChild(snippet);
      list.appendChild(item);
    });
    container.appendChild(list);
  }

  function selectedLink(container) {
    var item = container.querySelector("li.selected") || container.querySelector("li");
    return item && item.querySelector("a");
  }

  function move(container, step) {
    var items = Array.from(container.querySelectorAll("li"));
    if (!items.length) return;
    var current = items.findIndex(function (li) { return li.classList.contains("selected"); });
    var next = Math.min(items.length - 1, Math.max(0, current + step));
    items.forEach(function (li, i) { li.classList.toggle("selected", i === next); });
    items[next].scrollIntoView({ block: "nearest" });
  }

  function attach(input, container, select) {
    var sequence = 0;
    function run() {
      var query = input.value;
      var mine = ++sequence;
      search(query, 0, select && select.value ? [select.value] : []).then(function (result) {
        if (mine === sequence) show(container, result.hits, query, result.suggestion);
      }, function (error) {
        if (mine !== sequence) return;
        container.hidden = false;
        container.textContent = "Search is unavailable: " + error.message;
      });
    }
    input.addEventListener("input", run);
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(container, event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter") {
        var link = selectedLink(container);
        if (link) { event.preventDefault(); window.location.href = link.href; }
      } else if (event.key === "Escape" && container.classList.contains("search-panel")) {
        container.hidden = true;
      }
    });
    return run;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.querySelector("input[type=search]");
    var container = document.getElementById("search-results");
    if (!input || !container) return;
    var select = document.getElementById("search-source");  // the search page's source filter
    var run = attach(input, container, select);
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable);
      if (event.key === "/" && !typing) { event.preventDefault(); input.focus(); input.select(); }
    });
    document.addEventListener("click", function (event) {
      if (container.classList.contains("search-panel") && !container.contains(event.target) && event.target !== input) {
        container.hidden = true;
      }
    });
    var params = new URLSearchParams(window.location.search);
    var query = params.get("q");
    if (container.classList.contains("search-panel")) return;
    if (select) {
      select.addEventListener("change", run);
      load("meta.js").then(function () {  // a choice of sources when there are several
        meta.sources.forEach(function (name) {
          var option = document.createElement("option");
          option.value = option.textContent = name;
          select.appendChild(option);
        });
        select.value = meta.sources.indexOf(params.get("source")) >= 0 ? params.get("source") : "";
        select.parentNode.hidden = meta.sources.length < 2;
        if (query) { input.value = query; run(); }
      });
      return;
    }
    if (query) { input.value = query; run(); }
  });
})();

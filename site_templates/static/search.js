/* docmirror static search.
 *
 * Works from file:// with no server: the index is a set of JavaScript files loaded with
 * <script> (browsers forbid fetch on file://). Ranking is exactly mirror/index.py's rank():
 * per query word, the BM25 sum over its (field, term) alternatives; summed over words; scaled
 * by the share of words matched; ties broken by document order. Keep the two in step.
 * Results are built as DOM nodes with textContent: nothing from a source is parsed as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var root = (script && script.getAttribute("data-root")) || "";
  var base = root + "_static/search/";
  var LIMIT = 10;
  var A = window.DocmirrorAnalysis;
  // Python's \w (str patterns) is [\p{L}\p{N}_]: see analysis.js
  function queryWords(text) { return text.match(/[\p{L}\p{N}_.]+/gu) || []; }
  function tokenSpans(text) {
    var spans = [], re = /[\p{L}\p{N}_]+/gu, m;
    while ((m = re.exec(text))) spans.push([m.index, m.index + m[0].length]);
    return spans;
  }
  var waiting = {};
  var meta = null;
  var shards = {};
  var texts = {};

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
    loadMeta: function (data) { meta = data; deferred("meta.js").resolve(data); },
    loadShard: function (name, terms) { shards[name] = terms; deferred(name).resolve(terms); },
    loadText: function (name, docs) {
      Object.keys(docs).forEach(function (d) { texts[d] = docs[d]; });
      deferred(name).resolve(docs);
    },
    search: search
  };

  /* -- ranking (mirror/index.py: analyze_query, rank, shard_name) -------------------------- */

  function shardName(term, chars) {
    var prefix = Array.from(term).slice(0, chars);
    var safe = prefix.map(function (c) {
      return /^[A-Za-z0-9]$/.test(c) ? c : "_" + c.codePointAt(0).toString(16);
    }).join("");
    return "t-" + safe.toLowerCase() + ".js";
  }

  function shardFor(term) {
    var name = shardName(term, 2);
    return meta.split.indexOf(name) >= 0 ? shardName(term, 3) : name;
  }

  function pageOf(doc) {  // pages hold consecutive documents from their "first" on
    var lo = 0, hi = meta.pages.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (meta.pages[mid][3] <= doc) lo = mid; else hi = mid - 1;
    }
    return meta.pages[lo];
  }

  function textBlock(doc) { return "s-" + Math.floor(doc / meta.textBlock) + ".js"; }

  function unique(list) {
    var seen = new Set();
    return list.filter(function (x) { if (!x || seen.has(x)) return false; seen.add(x); return true; });
  }

  function analyzeQuery(text) {
    var words = [];
    queryWords(text).slice(0, 32).forEach(function (word) {
      var alternatives = [];
      meta.fields.forEach(function (field) {
        var terms = field === "symbols" ? A.symbolTerms(word) : A.textTerms(word);
        unique(terms).forEach(function (term) { alternatives.push([field, term]); });
      });
      if (alternatives.length) words.push(alternatives);
    });
    return words;
  }

  function rank(words) {
    var B = meta.B, K1 = meta.K1;
    var totals = new Map(), matched = new Map();
    words.forEach(function (alternatives) {
      var wordScores = new Map();
      alternatives.forEach(function (alt) {
        var f = meta.fields.indexOf(alt[0]);
        var shard = shards[shardFor(alt[1])];
        var entry = shard && shard[meta.codes[f] + ":" + alt[1]];
        if (!entry) return;
        var idf = entry[0], average = meta.average[f], doc = 0;
        for (var i = 1; i < entry.length; i += 3) {
          doc += entry[i];  // delta-coded
          var weight = entry[i + 1], length = entry[i + 2];
          var score = idf * (weight * (K1 + 1.0)) / (weight + K1 * (1.0 - B + B * length / average));
          wordScores.set(doc, (wordScores.get(doc) || 0.0) + score);
        }
      });
      wordScores.forEach(function (score, doc) {
        totals.set(doc, (totals.get(doc) || 0.0) + score);
        matched.set(doc, (matched.get(doc) || 0) + 1);
      });
    });
    var ranked = [];
    totals.forEach(function (total, doc) {
      ranked.push([doc, total * matched.get(doc) / words.length]);
    });
    ranked.sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
    return ranked;
  }

  /* Resolves to [{path, url, title, section, score, text, terms}] for the best documents. */
  function search(text, limit) {
    limit = limit || LIMIT;
    return load("meta.js").then(function () {
      var words = analyzeQuery(text);
      if (!words.length) return [];
      var needed = unique(words.flatMap(function (alts) {
        return alts.map(function (alt) { return shardFor(alt[1]); });
      })).filter(function (name) { return meta.shards.indexOf(name) >= 0; });
      return Promise.all(needed.map(load)).then(function () {
        var top = rank(words).slice(0, limit);
        var files = unique(top.map(function (hit) { return textBlock(hit[0]); }));
        return Promise.all(files.map(load)).then(function () {
          var terms = new Set();
          words.forEach(function (alts) {
            alts.forEach(function (alt) { if (alt[0] === "text") terms.add(alt[1]); });
          });
          return top.map(function (hit) {
            var page = pageOf(hit[0]);
            var doc = texts[hit[0]];
            var anchor = doc[0] ? "#" + doc[0] : "";
            return { path: page[0] + anchor, url: page[2] + anchor, title: page[1],
                     section: doc[1], score: hit[1], text: doc[2], terms: terms };
          });
        });
      });
    });
  }

  /* -- display ----------------------------------------------------------------------------- */

  var SNIPPET = 160;

  function snippetNodes(text, terms) {
    var tokens = tokenSpans(text).filter(function (t) {
      return A.textTerms(text.slice(t[0], t[1])).some(function (term) { return terms.has(term); });
    });
    var start = tokens.length ? Math.max(0, tokens[0][0] - Math.floor(SNIPPET / 3)) : 0;
    if (start) {
      var space = text.indexOf(" ", start);
      if (space >= 0 && space < tokens[0][0]) start = space + 1;
    }
    var end = Math.min(text.length, start + SNIPPET);
    if (end < text.length) {
      var last = text.lastIndexOf(" ", end);
      if (last > start) end = last;
    }
    var nodes = [];
    if (start) nodes.push(document.createTextNode("… "));
    var position = start;
    tokens.forEach(function (t) {
      if (t[0] < start || t[1] > end) return;
      nodes.push(document.createTextNode(text.slice(position, t[0])));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(t[0], t[1]);
      nodes.push(mark);
      position = t[1];
    });
    nodes.push(document.createTextNode(text.slice(position, end) + (end < text.length ? " …" : "")));
    return nodes;
  }

  function show(container, hits, query) {
    container.textContent = "";
    if (!query.trim()) { container.hidden = container.classList.contains("search-panel"); return; }
    container.hidden = false;
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
      if (hit.section && hit.section !== hit.title) {
        var where = document.createElement("div");
        where.className = "where";
        where.textContent = hit.title;
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

  function attach(input, container) {
    var sequence = 0;
    function run() {
      var query = input.value;
      var mine = ++sequence;
      search(query).then(function (hits) {
        if (mine === sequence) show(container, hits, query);
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
    var run = attach(input, container);
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
    var query = new URLSearchParams(window.location.search).get("q");
    if (query && !container.classList.contains("search-panel")) { input.value = query; run(); }
  });
})();

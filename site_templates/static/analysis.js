/* docmirror query analysis: a port of what the whoosh index does to documents, so that the
 * static search looks up the same terms.  It mirrors
 *   - mirror.search.analysis.stem (the Porter stemmer, step 1b as Porter wrote it) -> stem(word)
 *   - mirror.search.analysis.STOP_WORDS                                          -> STOP_WORDS
 *   - mirror.search.analysis.text_analyzer() in query mode (RegexTokenizer(WORD) | CodePartsFilter,
 *       which splits identifiers only when indexing | LowercaseFilter
 *       | StopFilter(STOP_WORDS, minsize=MIN_WORD_CHARS) | StemFilter(stem))    -> textTerms(text)
 *   - mirror.search.analysis.symbol_analyzer() (RegexTokenizer(NAME) | LowercaseFilter
 *       | DottedNameFilter: the name and its dotted suffixes)                    -> symbolTerms(text)
 *   - mirror.search.analysis.edit_distance                           -> editDistance(a, b, limit)
 * It must stay identical to the Python side (tests/test_analysis_js.py checks it in Chromium).
 *
 * The rules are not written here: the word patterns, the stop words and the stemmer's tables
 * are mirror.search.analysis's, which the exported index's meta.js carries
 * (mirror.search.export.export_settings: "analysis"); search.js hands them to configure() as
 * soon as meta.js is loaded, before it analyses anything.  The stemmer's steps, in the order
 * and with the conditions of mirror.search.analysis.stem, are the code below.
 *
 * Python's \w (str patterns) is "str.isalnum() or '_'", which is exactly [\p{L}\p{N}_]; Python
 * lengths count code points, hence the Array.from below.  Only characters that Python's own
 * Unicode database does not know yet (assigned in a newer Unicode than the browser's) can differ.
 */
var DocmirrorAnalysis = (function () {
  "use strict";

  var WORD_CHARS = "\\p{L}\\p{N}_"; // Python's \w in JavaScript: see above
  var rules = null; // mirror.search.analysis.analysis_settings(), with its patterns compiled
  var api = {};

  /* A Python `re` pattern source (the subset the rules use) as a RegExp with Python's meaning:
   * \w is [\p{L}\p{N}_]; outside [...], "." is anything but "\n" and "$" also matches before a
   * final "\n".  Searched like re.search: only "^" anchors it at the start. */
  function pythonRegExp(source, flags) {
    var out = "", inClass = false, c;
    for (var i = 0; i < source.length; i++) {
      c = source[i];
      if (c === "\\") {
        c = source[++i];
        if (c === "w") out += inClass ? WORD_CHARS : "[" + WORD_CHARS + "]";
        else out += "\\" + c;
      } else if (inClass) {
        if (c === "]") inClass = false;
        out += c;
      } else if (c === "[") {
        inClass = true;
        out += c;
        if (source[i + 1] === "^") out += source[++i];
        if (source[i + 1] === "]") out += "\\" + source[++i]; // "]" first is a member
      } else if (c === ".") {
        out += "[^\\n]";
      } else if (c === "$") {
        out += "(?=\\n?$)";
      } else {
        out += c;
      }
    }
    return new RegExp(out, "u" + (flags || ""));
  }

  function configure(settings) {
    var porter = settings.porter, patterns = {};
    Object.keys(porter.patterns).forEach(function (name) {
      patterns[name] = pythonRegExp(porter.patterns[name]);
    });
    var word = pythonRegExp(settings.word, "g");
    rules = {
      word: word, name: pythonRegExp(settings.name, "g"), minChars: settings.minChars,
      stopWords: new Set(settings.stopWords), porter: porter, p: patterns,
      wholeWord: new RegExp("^(?:" + word.source + ")$", "u"), // re.fullmatch: no "\n" leeway
    };
    api.STOP_WORDS = rules.stopWords;
  }

  function ready() {
    if (!rules) throw new Error("DocmirrorAnalysis: configure() it with meta.js's rules first");
    return rules;
  }

  function length(s) {
    return Array.from(s).length; // code points, like Python's len()
  }

  function without(w, suffix) {
    return w.slice(0, w.length - suffix.length);
  }

  // the first [suffix, replacement] of `table` that ends `w`, applied; null if none does
  function replaced(w, table) {
    for (var i = 0; i < table.length; i++) {
      if (w.endsWith(table[i][0])) return without(w, table[i][0]) + table[i][1];
    }
    return null;
  }

  /* mirror.search.analysis.stem: the same steps over the same tables */
  function stem(w) {
    var tables = ready().porter, p = rules.p, m, s;
    if (length(w) < tables.minChars) return w;
    var y = tables.leadingY[0], consonantY = tables.leadingY[1];
    var firstIsY = w.startsWith(y);
    if (firstIsY) w = consonantY + w.slice(y.length);

    // Step 1a
    s = replaced(w, tables.step1a);
    if (s !== null) w = s;
    // Step 1b
    if (w.endsWith(tables.eed[0])) {
      if (p.mgr0.test(without(w, tables.eed[0]))) w = without(w, tables.eed[0]) + tables.eed[1];
    } else if ((m = p.edIng.exec(w)) && p.vowel.test(m[1])) {
      w = m[1]; // no line end in it, so its endings are its last letters
      s = replaced(w, tables.restore);
      if (s !== null) w = s;
      else if (p.double.test(w)) w = Array.from(w).slice(0, -1).join(""); // one code point off
      else if (p.cvc.test(w)) w += tables.cvcE;
    }
    // Step 1c
    if (w.endsWith(tables.step1c[0]) && p.vowel.test(without(w, tables.step1c[0]))) {
      w = without(w, tables.step1c[0]) + tables.step1c[1];
    }
    // Step 2
    if ((m = p.step2.exec(w)) && p.mgr0.test(m[1])) w = m[1] + tables.step2[m[2]];
    // Step 3
    if ((m = p.step3.exec(w)) && p.mgr0.test(m[1])) w = m[1] + tables.step3[m[2]];
    // Step 4
    if ((m = p.step4.exec(w))) {
      if (p.mgr1.test(m[1])) w = m[1];
    } else if ((m = p.step4Ion.exec(w)) && p.mgr1.test(m[1] + m[2])) {
      w = m[1] + m[2];
    }
    // Step 5
    if ((m = p.step5.exec(w))) {
      s = m[1];
      if (p.mgr1.test(s) || (p.meq1.test(s) && !p.cvc.test(s))) w = s;
    }
    if (w.endsWith(tables.step5b[0]) && p.mgr1.test(w)) {
      w = without(w, tables.step5b[0]) + tables.step5b[1];
    }

    if (firstIsY) w = y + w.slice(consonantY.length);
    return w;
  }

  /* The matches of mirror.search.analysis.WORD (`wordMatches`) or NAME (`nameMatches`) in
   * `text`, as RegExp matches (index, [0]), in order: Python's pattern.finditer. */
  function matches(pattern, text) {
    return Array.from(String(text).matchAll(pattern)); // matchAll uses a copy: no state kept
  }

  function wordMatches(text) { return matches(ready().word, text); }
  function nameMatches(text) { return matches(ready().name, text); }

  /* pattern.fullmatch(s) of WORD: `s` is one word */
  function isWord(s) { return ready().wholeWord.test(s); }

  function tokens(found) {
    return found.map(function (m) { return m[0].toLowerCase(); });
  }

  function textTerms(text) {
    var terms = [];
    tokens(wordMatches(text)).forEach(function (t) {
      if (length(t) >= rules.minChars && !rules.stopWords.has(t)) terms.push(stem(t));
    });
    return terms;
  }

  // API names are dotted (`a.b.C`): the syntax NAME allows besides words
  function symbolTerms(text) {
    var terms = [];
    tokens(nameMatches(text)).forEach(function (t) {
      var name = t.replace(/^\.+|\.+$/g, "");
      var parts = name.split(".").filter(Boolean);
      var variants = [name];
      for (var i = 1; i < parts.length; i++) variants.push(parts.slice(i).join("."));
      new Set(variants).forEach(function (v) { if (v) terms.push(v); });
    });
    return terms;
  }

  // mirror.search.analysis.edit_distance: optimal string alignment, bounded, over code points
  function editDistance(a, b, limit) {
    a = Array.from(a); b = Array.from(b);
    if (Math.abs(a.length - b.length) > limit) return limit + 1;
    var previous2 = [], previous = [], i, j;
    for (j = 0; j <= b.length; j++) previous.push(j);
    for (i = 1; i <= a.length; i++) {
      var current = [i];
      for (j = 1; j <= b.length; j++) {
        var cost = a[i - 1] === b[j - 1] ? 0 : 1;
        var value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          value = Math.min(value, previous2[j - 2] + 1); // a swap of neighbours: two back
        }
        current.push(value);
      }
      if (Math.min.apply(null, current) > limit) return limit + 1;
      previous2 = previous; previous = current;
    }
    return previous[b.length] <= limit ? previous[b.length] : limit + 1;
  }

  api.configure = configure;
  api.STOP_WORDS = null; // a Set, once configured
  api.stem = stem;
  api.textTerms = textTerms;
  api.symbolTerms = symbolTerms;
  api.wordMatches = wordMatches;
  api.nameMatches = nameMatches;
  api.isWord = isWord;
  api.editDistance = editDistance;
  return api;
})();

/* docmirror query analysis: a port of what the whoosh index does to documents, so that the
 * static search looks up the same terms.  It mirrors
 *   - mirror.analysis.stem (whoosh's Porter stemmer, step 1b fixed) -> stem(word)
 *   - whoosh.analysis.STOP_WORDS                   -> STOP_WORDS
 *   - mirror.analysis.text_analyzer() in query mode (RegexTokenizer(r"\w+") | CodePartsFilter,
 *       which splits identifiers only when indexing | LowercaseFilter | StopFilter(minsize=2)
 *       | StemFilter)                               -> textTerms(text)
 *   - mirror.analysis.symbol_analyzer() (RegexTokenizer(r"[\w.]+") | LowercaseFilter
 *       | DottedNameFilter: the name and its dotted suffixes)  -> symbolTerms(text)
 *   - mirror.analysis.edit_distance                -> editDistance(a, b, limit)
 * It must stay identical to the Python side (tests/test_analysis_js.py checks it in Chromium).
 *
 * Python's \w (str patterns) is "str.isalnum() or '_'", which is exactly [\p{L}\p{N}_]; Python
 * lengths count code points, hence the Array.from below.  Only characters that Python's own
 * Unicode database does not know yet (assigned in a newer Unicode than the browser's) can differ.
 */
var DocmirrorAnalysis = (function () {
  "use strict";

  var STOP_WORDS = new Set([
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "have", "if", "in",
    "is", "it", "may", "not", "of", "on", "or", "tbd", "that", "the", "this", "to", "us", "we",
    "when", "will", "with", "yet", "you", "your",
  ]);

  // Python's re.match() patterns of porter.py, compiled with Python's meaning: match() anchors
  // at the start (re.search(), `anywhere`, does not), "$" also matches before a final "\n",
  // "." is anything but "\n".
  function py(pattern, anywhere) {
    var source = pattern.replace(/\./g, "[^\\n]").replace(/\$/g, function () {
      return "(?=\\n?$)";
    });
    return new RegExp((anywhere ? "" : "^") + source, "u");
  }

  var CONS_SEQ = "[^aeiouy]+";
  var VOWEL_SEQ = "[aeiou]+";
  var mgr0 = py("(" + CONS_SEQ + ")?" + VOWEL_SEQ + CONS_SEQ); // m > 0
  var meq1 = py("(" + CONS_SEQ + ")?" + VOWEL_SEQ + CONS_SEQ + "(" + VOWEL_SEQ + ")?$"); // m == 1
  var mgr1 = py("(" + CONS_SEQ + ")?" + VOWEL_SEQ + CONS_SEQ + VOWEL_SEQ + CONS_SEQ); // m > 1
  var sV = py("(" + CONS_SEQ + ")?[aeiouy]"); // vowel in stem
  var cV = py(CONS_SEQ + "[aeiouy][^aeiouwxy]$");
  var edIng = py("(.*)(ed|ing)$");
  // step 1b looks at the end of the stem (mirror.analysis.stem; whoosh matched the whole stem)
  var atBlIz = py("(at|bl|iz)$", true);
  var step1b = py("([^aeiouylsz])\\1$", true);
  var step2 = py("(.+?)(ational|tional|enci|anci|izer|bli|alli|entli|eli|ousli|ization|ation" +
    "|ator|alism|iveness|fulness|ousness|aliti|iviti|biliti|logi)$");
  var step3 = py("(.+?)(icate|ative|alize|iciti|ical|ful|ness)$");
  var step4a = py("(.+?)(al|ance|ence|er|ic|able|ible|ant|ement|ment|ent|ou|ism|ate|iti|ous" +
    "|ive|ize)$");
  var step4b = py("(.+?)(s|t)(ion)$");
  var step5 = py("(.+?)e$");

  var STEP2 = {
    ational: "ate", tional: "tion", enci: "ence", anci: "ance", izer: "ize", bli: "ble",
    alli: "al", entli: "ent", eli: "e", ousli: "ous", ization: "ize", ation: "ate", ator: "ate",
    alism: "al", iveness: "ive", fulness: "ful", ousness: "ous", aliti: "al", iviti: "ive",
    biliti: "ble", logi: "log",
  };
  var STEP3 = { icate: "ic", ative: "", alize: "al", iciti: "ic", ical: "ic", ful: "", ness: "" };

  function length(s) {
    return Array.from(s).length; // code points, like Python's len()
  }

  function stem(w) {
    var m, s;
    if (length(w) < 3) return w;
    var firstIsY = w[0] === "y";
    if (firstIsY) w = "Y" + w.slice(1);

    // Step 1a
    if (w.endsWith("s")) {
      if (w.endsWith("sses") || w.endsWith("ies")) w = w.slice(0, -2);
      else if (w[w.length - 2] !== "s") w = w.slice(0, -1);
    }
    // Step 1b
    if (w.endsWith("eed")) {
      if (mgr0.test(w.slice(0, -3))) w = w.slice(0, -1);
    } else if ((m = edIng.exec(w)) && sV.test(m[1])) {
      w = m[1];
      if (atBlIz.test(w)) w += "e";
      else if (step1b.test(w)) w = Array.from(w).slice(0, -1).join("");
      else if (cV.test(w)) w += "e";
    }
    // Step 1c
    if (w.endsWith("y")) {
      s = w.slice(0, -1);
      if (sV.test(s)) w = s + "i";
    }
    // Step 2
    if ((m = step2.exec(w)) && mgr0.test(m[1])) w = m[1] + STEP2[m[2]];
    // Step 3
    if ((m = step3.exec(w)) && mgr0.test(m[1])) w = m[1] + STEP3[m[2]];
    // Step 4
    if ((m = step4a.exec(w))) {
      if (mgr1.test(m[1])) w = m[1];
    } else if ((m = step4b.exec(w)) && mgr1.test(m[1] + m[2])) {
      w = m[1] + m[2];
    }
    // Step 5
    if ((m = step5.exec(w))) {
      s = m[1];
      if (mgr1.test(s) || (meq1.test(s) && !cV.test(s))) w = s;
    }
    if (w.endsWith("ll") && mgr1.test(w)) w = w.slice(0, -1);

    if (firstIsY) w = "y" + w.slice(1);
    return w;
  }

  function tokens(pattern, text) {
    return (String(text).match(pattern) || []).map(function (t) { return t.toLowerCase(); });
  }

  function textTerms(text) {
    var terms = [];
    tokens(/[\p{L}\p{N}_]+/gu, text).forEach(function (t) {
      if (length(t) >= 2 && !STOP_WORDS.has(t)) terms.push(stem(t));
    });
    return terms;
  }

  function symbolTerms(text) {
    var terms = [];
    tokens(/[\p{L}\p{N}_.]+/gu, text).forEach(function (t) {
      var name = t.replace(/^\.+|\.+$/g, "");
      var parts = name.split(".").filter(Boolean);
      var variants = [name];
      for (var i = 1; i < parts.length; i++) variants.push(parts.slice(i).join("."));
      new Set(variants).forEach(function (v) { if (v) terms.push(v); });
    });
    return terms;
  }

  // mirror.analysis.edit_distance: optimal string alignment, bounded, over code points
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
          value = Math.min(value, previous2[j - 2] + 1);
        }
        current.push(value);
      }
      if (Math.min.apply(null, current) > limit) return limit + 1;
      previous2 = previous; previous = current;
    }
    return previous[b.length] <= limit ? previous[b.length] : limit + 1;
  }

  return {
    stem: stem, STOP_WORDS: STOP_WORDS, textTerms: textTerms, symbolTerms: symbolTerms,
    editDistance: editDistance
  };
})();

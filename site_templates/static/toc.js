/* docmirror: highlight the table-of-contents entry of the section being read. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var links = Array.from(document.querySelectorAll(".toc a[href^='#']"));
    if (!links.length || !("IntersectionObserver" in window)) return;
    var byId = new Map();
    links.forEach(function (link) {
      var target = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
      if (target) byId.set(target, link);
    });
    var visible = new Set();
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) { if (e.isIntersecting) visible.add(e.target); else visible.delete(e.target); });
      var first = Array.from(byId.keys()).find(function (t) { return visible.has(t); });
      if (!first) return;
      links.forEach(function (l) { l.classList.toggle("current", l === byId.get(first)); });
    }, { rootMargin: "-60px 0px -60% 0px" });
    byId.forEach(function (_, target) { observer.observe(target); });
  });
})();

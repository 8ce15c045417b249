/* In-page search of a clippings site: every query word must occur in an entry.
   Both sides are folded the way `clippings search` folds German: case, accents, and
   ä/ae/a, ö/oe/o, ü/ue/u, ß/ss. Cyrillic entries carry their German and English
   transliterations in the index (made by clippings); a Cyrillic query is transliterated
   here, so Wolgograd, Volgograd and Волгоград find each other. */
(function () {
  "use strict";

  var DE = {"а":"a","б":"b","в":"w","г":"g","д":"d","е":"e","ё":"jo","ж":"sch","з":"s",
    "и":"i","й":"i","к":"k","л":"l","м":"m","н":"n","о":"o","п":"p","р":"r","с":"s",
    "т":"t","у":"u","ф":"f","х":"ch","ц":"z","ч":"tsch","ш":"sch","щ":"schtsch","ъ":"",
    "ы":"y","ь":"","э":"e","ю":"ju","я":"ja","і":"i","ї":"ji","є":"je","ґ":"g"};
  var EN = {"а":"a","б":"b","в":"v","г":"g","д":"d","е":"e","ё":"e","ж":"zh","з":"z",
    "и":"i","й":"y","к":"k","л":"l","м":"m","н":"n","о":"o","п":"p","р":"r","с":"s",
    "т":"t","у":"u","ф":"f","х":"kh","ц":"ts","ч":"ch","ш":"sh","щ":"shch","ъ":"",
    "ы":"y","ь":"","э":"e","ю":"yu","я":"ya","і":"i","ї":"yi","є":"ye","ґ":"g"};
  var CYRILLIC = /[\u0400-\u04ff]/;

  function translit(word, table) {
    var out = "";
    for (var i = 0; i < word.length; i++) {
      var c = word.charAt(i);
      out += Object.prototype.hasOwnProperty.call(table, c) ? table[c] : c;
    }
    return out;
  }

  /* lower case, ß → ss, accents and soft hyphens removed (ä → a), then ae/oe/ue → a/o/u
     unless a vowel or q comes before (as the search index does: Staedte = Städte); w = v
     and j = y, the letters German and English spellings of Russian names differ in
     (Wolgograd = Volgograd, Jaroslawl = Yaroslavl). */
  function fold(text) {
    return text.toLowerCase()
      .replace(/ß/g, "ss")
      .normalize("NFKD").replace(/[\u0300-\u036f\u00ad]/g, "")
      .replace(/(^|[^aeiouq])([aou])e/g, "$1$2")
      .replace(/w/g, "v").replace(/j/g, "y")
      .replace(/[^0-9a-z\u0400-\u04ff]+/g, " ");
  }

  function alternatives(word) {
    word = word.toLowerCase();
    var forms = [fold(word).trim()];
    if (CYRILLIC.test(word)) {
      forms.push(fold(translit(word, DE)).trim(), fold(translit(word, EN)).trim());
    }
    return forms.filter(function (f) { return f.length > 0; });
  }

  function ready() {
    var data = JSON.parse(document.getElementById("search-data").textContent);
    var box = document.getElementById("search");
    var input = document.getElementById("q");
    var count = document.getElementById("count");
    var none = document.getElementById("none");
    var items = {};
    document.querySelectorAll("li.ref").forEach(function (li) {
      items[li.dataset.key] = {li: li, group: li.closest("section").id};
    });
    // Folded once, when the page loads: each keystroke is then only substring tests.
    var index = data.map(function (row) {
      return {item: items[row[0]], text: " " + fold(row[1]) + " "};
    }).filter(function (row) { return row.item; });
    var groups = Array.prototype.slice.call(document.querySelectorAll("section.group"));
    var chips = {};
    document.querySelectorAll(".toc a[data-group]").forEach(function (a) {
      chips[a.dataset.group] = a;
    });
    var total = index.length;

    function apply() {
      var words = input.value.split(/\s+/).filter(Boolean).map(alternatives)
        .filter(function (forms) { return forms.length > 0; });
      var shown = 0, perGroup = {};
      index.forEach(function (row) {
        var hit = words.every(function (forms) {
          return forms.some(function (f) { return row.text.indexOf(f) !== -1; });
        });
        // Touch the DOM only where something changes: fewer style recalculations.
        if (row.item.li.hidden === hit) { row.item.li.hidden = !hit; }
        if (hit) {
          shown++;
          perGroup[row.item.group] = (perGroup[row.item.group] || 0) + 1;
        }
      });
      groups.forEach(function (section) {
        var empty = !perGroup[section.id];
        if (section.hidden !== empty) { section.hidden = empty; }
        if (chips[section.id]) { chips[section.id].classList.toggle("empty", empty); }
      });
      none.hidden = shown !== 0;
      count.textContent = words.length
        ? shown + " " + count.dataset.of + " " + total + " " + count.dataset.entries
        : total + " " + count.dataset.entries;
      try {
        var url = new URL(window.location.href);
        if (input.value.trim()) { url.searchParams.set("q", input.value.trim()); }
        else { url.searchParams.delete("q"); }
        window.history.replaceState(null, "", url.toString());
      } catch (e) { /* some browsers refuse this on file:// pages: searching still works */ }
    }

    var timer = null;
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(apply, 60);
    });
    box.hidden = false;
    var given = new URLSearchParams(window.location.search).get("q");
    if (given) { input.value = given; }
    apply();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();

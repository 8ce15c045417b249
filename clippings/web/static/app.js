// clippings: the few interactions of the pages. No inline scripts (the CSP forbids them).
(function () {
  "use strict";
  // Sorting: a pick with the mouse applies at once. From the keyboard the arrow keys
  // only step through the options (a reload on each would throw the user out of the box);
  // Enter or leaving the box applies the choice. After the reload the box has the focus
  // again, ahead of the search box's autofocus.
  var store = null;
  try { store = window.sessionStorage; } catch (e) { /* storage blocked: no refocus */ }
  var refocus = store && store.getItem("clippings-refocus");
  if (refocus) {
    store.removeItem("clippings-refocus");
    var again = document.getElementById(refocus);
    if (again) { again.focus(); }
  }
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    var applied = el.value, keyed = false;
    var apply = function () {
      if (el.value === applied) { return; }
      applied = el.value;
      if (store && el.id) { store.setItem("clippings-refocus", el.id); }
      el.form.submit();
    };
    el.addEventListener("pointerdown", function () { keyed = false; });
    el.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); apply(); } else { keyed = true; }
    });
    el.addEventListener("change", function () { if (!keyed) { apply(); } });
    el.addEventListener("blur", apply);
  });
  // "All results of this search" ticks (and greys out) the single checkboxes.
  var all = document.getElementById("all-results");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll(".hit input[type=checkbox]").forEach(function (box) {
        box.checked = all.checked; box.disabled = all.checked;
      });
    });
  }
  // Copy buttons: the text of the element named by data-copy.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById("copy-status");
      var text = source ? source.textContent.trim() : "";
      var done = function () {
        var label = status ? status.getAttribute("data-copied") : "✓";
        if (status) { status.textContent = label; }
        var old = button.textContent; button.textContent = "✓ " + label;
        setTimeout(function () { button.textContent = old; }, 1500);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        var area = document.createElement("textarea");
        area.value = text; document.body.appendChild(area); area.select();
        document.execCommand("copy"); area.remove(); done();
      }
    });
  });
  // The bookmarklet: posts the page the user is reading (address and HTML as the
  // browser shows it) to /clip with the user's clip token, in a new tab.
  var bm = document.getElementById("bookmarklet");
  if (bm) {
    var origin = JSON.stringify(bm.getAttribute("data-origin"));
    var token = JSON.stringify(bm.getAttribute("data-token"));
    var code = "(function(){var f=document.createElement('form');f.method='post';" +
      "f.action=" + origin + "+'clip';f.target='_blank';f.acceptCharset='utf-8';" +
      "[['token'," + token + "],['url',location.href],['html',document.documentElement.outerHTML]]" +
      ".forEach(function(p){var i=document.createElement('textarea');i.name=p[0];i.value=p[1];f.appendChild(i);});" +
      "f.style.display='none';document.body.appendChild(f);f.submit();f.remove();})()";
    bm.setAttribute("href", "javascript:" + encodeURIComponent(code));
    bm.addEventListener("click", function (e) { e.preventDefault(); });
  }
  // Similar clippings: a search of their own, loaded once the entry is on screen.
  document.querySelectorAll("[data-similar]").forEach(function (box) {
    fetch(box.getAttribute("data-similar"), {headers: {"X-Fragment": "1"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* the link to the page stays */ });
  });
  // "/" focuses the search box, as on many web apps.
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (e.key === "/" && tag !== "input" && tag !== "textarea" && tag !== "select") {
      var q = document.getElementById("q") || document.getElementById("top-q");
      if (q) { e.preventDefault(); q.focus(); q.select(); }
    }
  });
})();

"use strict";
// The triage page's only script (allowed by its hash in the page's
// Content-Security-Policy). It reads data attributes and toggles the
// hidden attribute; it never builds markup from report text.
(function () {
  var table = document.getElementById("results");
  var reports = Array.prototype.slice.call(table.querySelectorAll("tbody.report"));
  var shown = document.getElementById("shown");
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var conf = document.getElementById("f-conf");
  var text = document.getElementById("f-text");
  var header = document.querySelector("header");

  // The column titles stick below the header, whose height depends on
  // how the filters wrap: the style reads it from --header-height (set
  // through the CSSOM, which the policy allows; no style attribute).
  function measureHeader() {
    document.documentElement.style.setProperty("--header-height", header.offsetHeight + "px");
  }
  measureHeader();
  window.addEventListener("resize", measureHeader);

  function keep(tb) {
    for (var i = 0; i < selects.length; i++) {
      var want = selects[i].value;
      if (!want) continue;
      var key = selects[i].getAttribute("data-filter");
      var have = tb.getAttribute("data-" + key) || "";
      if (key === "review") {
        var flags = have.split(" ");
        if (want === "*") { if (have === "none") return false; continue; }
        if (flags.indexOf(want) < 0) return false;
        continue;
      }
      if (have !== want) return false;
    }
    var min = parseFloat(conf.value);
    if (!isNaN(min) && min > 0 && parseFloat(tb.getAttribute("data-confidence")) < min) return false;
    var q = text.value.trim().toLowerCase();
    if (q) {
      var hay = (tb.getAttribute("data-id") + " " + tb.getAttribute("data-subject") + " " +
        tb.getAttribute("data-source")).toLowerCase();
      if (hay.indexOf(q) < 0) return false;
    }
    return true;
  }

  function filter() {
    var n = 0;
    reports.forEach(function (tb) {
      var k = keep(tb);
      tb.hidden = !k;
      if (k) n++;
    });
    shown.textContent = n + " of " + reports.length + " shown";
  }

  var sortKey = "n", sortDir = 1;
  function sortBy(btn) {
    var key = btn.getAttribute("data-sort");
    var num = btn.hasAttribute("data-num");
    sortDir = key === sortKey ? -sortDir : 1;
    sortKey = key;
    table.querySelectorAll("th button").forEach(function (b) { b.removeAttribute("aria-sort"); });
    btn.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
    reports.sort(function (a, b) {
      var x = a.getAttribute("data-" + key) || "", y = b.getAttribute("data-" + key) || "";
      var c = num ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
      if (c === 0) c = parseInt(a.getAttribute("data-n"), 10) - parseInt(b.getAttribute("data-n"), 10);
      return sortDir * c;
    });
    reports.forEach(function (tb) { table.appendChild(tb); });
  }

  function toggle(row) {
    var detail = row.nextElementSibling;
    var open = detail.hidden;
    detail.hidden = !open;
    row.setAttribute("aria-expanded", open ? "true" : "false");
  }

  table.querySelectorAll("th button").forEach(function (b) {
    b.addEventListener("click", function () { sortBy(b); });
  });
  table.addEventListener("click", function (e) {
    var row = e.target.closest("tr.summary");
    if (row) toggle(row);
  });
  table.addEventListener("keydown", function (e) {
    var row = e.target.closest("tr.summary");
    if (row && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); toggle(row); }
  });
  selects.forEach(function (s) { s.addEventListener("change", filter); });
  conf.addEventListener("input", filter);
  text.addEventListener("input", filter);
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  filter();

  // A link to a row (page.html#r12) opens it.
  function openLinked() {
    var tb = location.hash && document.getElementById(location.hash.slice(1));
    if (tb && tb.classList.contains("report")) {
      var row = tb.querySelector("tr.summary");
      if (row.getAttribute("aria-expanded") !== "true") toggle(row);
      tb.scrollIntoView(); // below the header: the tbody's scroll-margin-top
    }
  }
  window.addEventListener("hashchange", openLinked);
  openLinked();
})();

// The report editor beside the evidence (reports/edit.html). Progressive enhancement: without
// this file the evidence follows the form (one link away) and each photo opens its own page.
// With it: on a narrow screen the two become tabs (WAI-ARIA tabs pattern, manual activation not
// needed: two panels, switched on arrow keys); the photo viewer steps through the case's photos
// with buttons and with ] / J (next) and [ / K (previous), which can be turned off (WCAG 2.1.4)
// and never act while the specialist is typing in a field.
(function () {
  "use strict";
  var WIDE = window.matchMedia("(min-width: 1100px)");

  function setupTabs() {
    var tablist = document.querySelector("[data-editor-tabs]");
    if (!tablist) return;
    var tabs = Array.prototype.slice.call(tablist.querySelectorAll("[role=tab]"));
    var panels = tabs.map(function (tab) { return document.getElementById(tab.getAttribute("aria-controls")); });
    var skips = document.querySelectorAll("[data-editor-skip]");
    var selected = 0;

    function select(index, focus) {
      selected = index;
      tabs.forEach(function (tab, i) {
        tab.setAttribute("aria-selected", i === index ? "true" : "false");
        tab.tabIndex = i === index ? 0 : -1;
        panels[i].hidden = i !== index;
      });
      if (focus) tabs[index].focus();
    }

    function layout() {
      var tabbed = !WIDE.matches;
      tablist.hidden = !tabbed;
      skips.forEach(function (skip) { skip.hidden = tabbed; });
      panels.forEach(function (panel, i) {
        if (tabbed) {
          panel.setAttribute("role", "tabpanel");
          panel.setAttribute("aria-labelledby", tabs[i].id);
        } else {
          panel.removeAttribute("role");
          panel.hidden = false;
          if (panel.tagName === "SECTION") panel.setAttribute("aria-labelledby", "evidence-title");
          else panel.removeAttribute("aria-labelledby");
        }
      });
      if (tabbed) select(selected, false);
    }

    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () { select(i, false); });
      tab.addEventListener("keydown", function (event) {
        var to = null;
        if (event.key === "ArrowRight") to = (i + 1) % tabs.length;
        else if (event.key === "ArrowLeft") to = (i - 1 + tabs.length) % tabs.length;
        else if (event.key === "Home") to = 0;
        else if (event.key === "End") to = tabs.length - 1;
        if (to === null) return;
        event.preventDefault();
        select(to, true);
      });
    });
    // A link to a panel (an error summary's, a skip link) shows that panel first.
    window.addEventListener("hashchange", function () {
      panels.forEach(function (panel, i) {
        var target = document.getElementById(window.location.hash.slice(1));
        if (!WIDE.matches && target && panel.contains(target)) select(i, false);
      });
    });
    WIDE.addEventListener("change", layout);
    layout();
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    return Boolean(target.isContentEditable || target.closest("textarea, select, [contenteditable], input:not([type=checkbox]):not([type=radio]):not([type=button]):not([type=submit])"));
  }

  function setupPhotos() {
    var viewer = document.querySelector("[data-photo-viewer]");
    if (!viewer) return;
    var links = Array.prototype.slice.call(document.querySelectorAll("[data-photo-src]"));
    var img = viewer.querySelector("[data-photo-current]");
    var position = viewer.querySelector("[data-photo-position]");
    var name = viewer.querySelector("[data-photo-name]");
    var toggle = document.querySelector("[data-photo-keys-toggle]");
    var current = 0;
    if (links.length < 2) return;

    function show(index) {
      current = (index + links.length) % links.length;
      var link = links[current];
      img.src = link.getAttribute("data-photo-src");
      img.alt = link.getAttribute("data-photo-alt");
      position.textContent = link.getAttribute("data-photo-position");
      name.textContent = link.getAttribute("data-photo-label");
      links.forEach(function (other, i) {
        if (i === current) other.setAttribute("aria-current", "true");
        else other.removeAttribute("aria-current");
      });
    }

    document.querySelectorAll("[data-photo-steps], [data-photo-keys]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("[data-photo-step]").forEach(function (button) {
      button.addEventListener("click", function () { show(current + parseInt(button.getAttribute("data-photo-step"), 10)); });
    });
    links.forEach(function (link, i) {
      link.addEventListener("click", function (event) {
        if (event.ctrlKey || event.metaKey || event.shiftKey) return; // a new tab still opens the photo's page
        event.preventDefault();
        show(i);
        viewer.scrollIntoView({block: "nearest"});
      });
    });
    try {
      if (window.localStorage.getItem("so-photo-keys") === "off") toggle.checked = false;
    } catch (e) { /* storage refused: shortcuts stay on */ }
    toggle.addEventListener("change", function () {
      try { window.localStorage.setItem("so-photo-keys", toggle.checked ? "on" : "off"); } catch (e) { /* ignore */ }
    });

    document.addEventListener("keydown", function (event) {
      if (!toggle.checked || event.metaKey || (event.ctrlKey && !event.altKey) || typing(event.target)) return;
      // The evidence must be on screen: not while the Report tab is the one shown.
      if (viewer.closest("[hidden]")) return;
      var step = {"]": 1, "j": 1, "J": 1, "[": -1, "k": -1, "K": -1}[event.key];
      if (!step) return;
      event.preventDefault();
      show(current + step);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setupTabs(); setupPhotos(); });
})();

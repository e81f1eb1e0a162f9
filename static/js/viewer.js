// Photo viewer zoom (reports/photo.html). Progressive enhancement: without this file the size
// links reload the page at that size; with it they resize the photo in place, and two buttons
// step the zoom in and out.
(function () {
  "use strict";
  var STEPS = [25, 50, 75, 100, 150, 200, 300, 400];

  function setup() {
    var box = document.querySelector("[data-zoom-box]");
    var controls = document.querySelector("[data-zoom-controls]");
    if (!box || !controls) return;
    var img = box.querySelector("img");
    var width = parseInt(img.getAttribute("data-width"), 10);
    var height = parseInt(img.getAttribute("data-height"), 10);
    if (!width || !height) return;
    var links = controls.querySelectorAll("[data-zoom]");
    var current = null; // null: fit to the screen

    function show(level) {
      current = level;
      if (level === null) {
        img.removeAttribute("width");
        img.removeAttribute("height");
        img.classList.add("zoom-fit");
      } else {
        img.classList.remove("zoom-fit");
        img.width = Math.round(width * level / 100);
        img.height = Math.round(height * level / 100);
      }
      var name = level === null ? "fit" : String(level);
      links.forEach(function (link) {
        if (link.getAttribute("data-zoom") === name) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      });
      var url = new URL(window.location.href);
      url.searchParams.set("zoom", name);
      window.history.replaceState(null, "", url);
    }

    function fitted() { // the level the photo is shown at when fitted to the box
      return Math.round(100 * img.getBoundingClientRect().width / width);
    }

    function step(direction) {
      var from = current === null ? fitted() : current;
      var next = direction > 0 ? STEPS.find(function (s) { return s > from; })
                               : STEPS.slice().reverse().find(function (s) { return s < from; });
      if (next !== undefined) show(next);
    }

    links.forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var level = link.getAttribute("data-zoom");
        show(level === "fit" ? null : parseInt(level, 10));
      });
    });

    [["out", -1, "−"], ["in", 1, "+"]].forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button--secondary zoom-step";
      button.setAttribute("aria-label", controls.getAttribute("data-label-" + spec[0]));
      button.setAttribute("data-zoom-step", spec[0]);
      button.textContent = spec[2];
      button.addEventListener("click", function () { step(spec[1]); });
      controls.appendChild(button);
    });

    var start = controls.querySelector("[aria-current]");
    var level = start ? start.getAttribute("data-zoom") : "fit";
    current = level === "fit" ? null : parseInt(level, 10);
  }

  document.addEventListener("DOMContentLoaded", setup);
})();

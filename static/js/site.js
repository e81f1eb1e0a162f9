// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();

  // The sign-in form tells the server the browser's time zone, so times read as local ones.
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {}
  document.querySelectorAll("input[data-time-zone]").forEach(function (input) {
    input.value = zone;
  });

  sessionTimeout();
  exclusiveCheckboxes();
});

// "None of these" (GOV.UK checkboxes with an exclusive "or" answer): choosing it clears the other
// answers, and choosing another clears it. Without this file the server refuses the mix.
function exclusiveCheckboxes() {
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.checked) return;
    var group = box.closest(".choices");
    if (!group || !group.querySelector("input[data-exclusive]")) return;
    var exclusive = box.hasAttribute("data-exclusive");
    group.querySelectorAll("input[type=checkbox]").forEach(function (other) {
      if (other !== box && (exclusive || other.hasAttribute("data-exclusive"))) other.checked = false;
    });
  });
}

// The sign-out warning (GOV.UK timeout-warning pattern, WCAG 2.2.1 "Timing adjustable"): a
// dialog two minutes before an idle session ends, with "Stay signed in". If nobody answers, what
// was typed on the page is kept in this tab's sessionStorage (never on the server), the browser
// goes to the sign-in page, and the same person signing in again gets the page back with it.
// Other pages' scripts call window.soSession.touch() after a request and .expire() when a
// request found the session gone (autosave.js).
function sessionTimeout() {
  var KEY = "so-restore";
  var dialog = document.querySelector("dialog[data-timeout]");
  if (!dialog) {
    // Signed out (or another page): what was kept is only for its owner, after signing in.
    return;
  }
  var user = dialog.dataset.user;
  var WARN = 120; // seconds of warning
  var deadline = 0;
  var warnTimer = null;
  var endTimer = null;
  var tick = null;

  restore();

  function now() {
    return Date.now() / 1000;
  }

  function schedule(secondsLeft) {
    deadline = now() + secondsLeft;
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    var warnIn = Math.max(0, secondsLeft - Math.min(WARN, secondsLeft / 2));
    warnTimer = setTimeout(warn, warnIn * 1000);
    endTimer = setTimeout(expire, (secondsLeft + 1) * 1000);
  }

  function left() {
    var s = Math.max(0, Math.round(deadline - now()));
    if (s > 90) return dialog.dataset.minutes.replace("%s", Math.round(s / 60));
    if (s > 59) return dialog.dataset.oneMinute;
    return dialog.dataset.seconds.replace("%s", s);
  }

  function warn() {
    var out = dialog.querySelector("[data-timeout-left]");
    out.textContent = left();
    if (!dialog.open) dialog.showModal();
    // Updated every 15 s, not every second: a screen reader is not interrupted all the time.
    clearInterval(tick);
    tick = setInterval(function () {
      out.textContent = left();
    }, 15000);
  }

  function close() {
    clearInterval(tick);
    if (dialog.open) dialog.close();
  }

  function keep() {
    var fields = [];
    document.querySelectorAll("main form").forEach(function (form) {
      if ((form.getAttribute("method") || "").toLowerCase() !== "post") return;
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.disabled || el.name === "csrfmiddlewaretoken") return;
        var type = (el.type || "").toLowerCase();
        if (["password", "file", "hidden", "submit", "button"].indexOf(type) >= 0) return;
        if (type === "checkbox" || type === "radio") {
          fields.push([el.name, el.value, el.checked]);
        } else if (el.value) {
          fields.push([el.name, el.value, null]);
        }
      });
    });
    if (!fields.length) return;
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ user: user, path: location.pathname, fields: fields }));
    } catch (e) {}
  }

  function expire() {
    close();
    keep();
    location.assign(dialog.dataset.login + "?next=" + encodeURIComponent(location.pathname + location.search));
  }

  function restore() {
    var saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
      sessionStorage.removeItem(KEY);
    } catch (e) {}
    if (!saved || saved.user !== user || saved.path !== location.pathname) return;
    var restored = false;
    saved.fields.forEach(function (f) {
      document.querySelectorAll("main form [name]").forEach(function (el) {
        if (el.name !== f[0]) return;
        if (f[2] === null) {
          if (el.value !== f[1]) {
            el.value = f[1];
            restored = true;
          }
        } else if (el.value === f[1] && el.checked !== f[2]) {
          el.checked = f[2];
          restored = true;
        }
      });
    });
    if (restored) {
      var notice = document.querySelector("[data-restored-notice]");
      if (notice) notice.hidden = false;
    }
  }

  dialog.querySelector("[data-keep-alive]").addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(this.action, { method: "POST", body: new FormData(this), credentials: "same-origin" }).then(
      function (response) {
        if (response.status === 204) {
          close();
          schedule(Number(dialog.dataset.secondsFull));
        } else {
          expire();
        }
      },
      function () {
        close();
      }
    );
  });
  dialog.addEventListener("cancel", function (event) {
    // Escape means "I am here": the same as "Stay signed in".
    event.preventDefault();
    dialog.querySelector("[data-keep-alive]").requestSubmit();
  });
  document.querySelectorAll("form[action$='/logout/']").forEach(function (form) {
    form.addEventListener("submit", function () {
      try {
        sessionStorage.removeItem(KEY);
      } catch (e) {}
    });
  });

  window.soSession = {
    touch: function () {
      schedule(Number(dialog.dataset.secondsFull));
    },
    expire: expire,
  };
  schedule(Number(dialog.dataset.secondsLeft));
}

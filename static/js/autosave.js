// Saves the report draft in the background a few seconds after the specialist stops typing.
// Progressive enhancement: the "Save draft" button does the same without JavaScript.
(function () {
  var form = document.querySelector("form[data-autosave]");
  if (!form) return;
  var status = form.querySelector("[data-autosave-status]");
  var timer = null;
  var dirty = false;

  function say(text) { if (status) status.textContent = text; }

  function save() {
    if (!dirty) return;
    dirty = false;
    fetch(window.location.href, {
      method: "POST", body: new FormData(form), credentials: "same-origin", headers: {"X-Autosave": "1"}
    }).then(function (response) {
      // Signed out meanwhile: the sign-in page answered. Keep the text and sign in again
      // (site.js), rather than saying "saved" or failing quietly.
      if (response.redirected && response.url.indexOf("/accounts/login/") >= 0) {
        dirty = true;
        say(status.dataset.signedOut);
        if (window.soSession) window.soSession.expire();
        return;
      }
      return response.json().then(function (data) {
        if (response.ok && data.saved) {
          say(status.dataset.saved.replace("%s", data.at));
          if (window.soSession) window.soSession.touch();
        } else {
          dirty = true;
          say(status.dataset.failed);
        }
      });
    }).catch(function () { dirty = true; say(status.dataset.failed); });
  }

  form.addEventListener("input", function () {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(save, 3000);
  });
  window.addEventListener("beforeunload", save);
})();

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
});

// Refreshes a staff list in place when the meeting's event stream says something changed.
(function () {
  "use strict";
  var list = document.querySelector("[data-stream]");
  if (!list || !window.EventSource) { return; }
  var pending = false;
  function refresh() {
    if (pending) { return; }
    pending = true;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-region]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh) { el.innerHTML = fresh.innerHTML; }
        });
      })
      .finally(function () { pending = false; });
  }
  var source = new EventSource(list.getAttribute("data-stream"));
  ["questions.created", "questions.updated", "agenda.updated", "submission.received"].forEach(function (type) {
    source.addEventListener(type, refresh);
  });
})();

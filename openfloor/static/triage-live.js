// Keeps a staff page current from the meeting's event stream.
//
// Every event asks for a refresh; an event that arrives while a refresh is under way asks for
// one more after it (a "questions.created" right after "submission.received" must not be lost).
// A fresh page is never put in while the pointer is over the board or focus is inside it, so no
// card moves from under the mouse; it goes in when the pointer or focus leaves.
(function () {
  "use strict";
  var board = document.querySelector("[data-stream]");
  if (!board || !window.EventSource) { return; }
  var inFlight = false;
  var again = false;
  var waiting = null;
  var status = document.getElementById("board-updates");

  function busy() {
    return board.matches(":hover") || board.contains(document.activeElement);
  }

  function apply() {
    if (!waiting || busy()) { return; }
    var doc = waiting;
    waiting = null;
    var open = Array.prototype.map.call(board.querySelectorAll("details[open][id]"), function (d) { return d.id; });
    document.querySelectorAll("[data-live-region]").forEach(function (el) {
      var fresh = doc.getElementById(el.id);
      if (fresh) { el.innerHTML = fresh.innerHTML; }
    });
    open.forEach(function (id) {
      var d = document.getElementById(id);
      if (d) { d.open = true; }
    });
    status = document.getElementById("board-updates");
    board.removeAttribute("data-updates-waiting");
  }

  function refresh() {
    if (inFlight) { again = true; return; }
    inFlight = true;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        waiting = new DOMParser().parseFromString(html, "text/html");
        if (busy()) {
          board.setAttribute("data-updates-waiting", "");
          if (status) { status.textContent = "New updates will show when you move away from the board."; }
        }
        apply();
      })
      .catch(function () { window.setTimeout(refresh, 2000); })
      .finally(function () {
        inFlight = false;
        if (again) { again = false; window.setTimeout(refresh, 0); }
      });
  }

  board.addEventListener("mouseleave", function () { window.setTimeout(apply, 0); });
  board.addEventListener("focusout", function () { window.setTimeout(apply, 0); });
  var source = new EventSource(board.getAttribute("data-stream"));
  ["questions.created", "questions.updated", "agenda.updated", "submission.received"].forEach(function (type) {
    source.addEventListener(type, refresh);
  });
})();

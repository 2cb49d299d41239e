// The chair's view: live refresh from the meeting's event stream (resuming with Last-Event-ID),
// a visible "reconnecting" state, and every action on a key.
(function () {
  "use strict";
  var root = document.querySelector("[data-chair]");
  if (!root) { return; }
  var banner = root.querySelector("[data-connection]");
  var lastId = root.getAttribute("data-after") || "$";
  var selected = null; // id of the selected card, kept across refreshes
  var busy = false, again = false, source = null, retry = null;

  function cards() { return Array.prototype.slice.call(document.querySelectorAll("[data-card]")); }

  function mark() {
    cards().forEach(function (c) {
      var on = c.id === selected;
      c.classList.toggle("is-selected", on);
      if (on) { c.setAttribute("aria-current", "true"); } else { c.removeAttribute("aria-current"); }
    });
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(root.getAttribute("data-regions"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-region]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh && fresh.innerHTML !== el.innerHTML) { el.innerHTML = fresh.innerHTML; }
        });
        mark();
        tick();
      })
      .catch(function () { window.setTimeout(refresh, 1000); })
      .finally(function () {
        busy = false;
        if (again) { again = false; window.setTimeout(refresh, 50); }
      });
  }

  function connected(ok) {
    banner.hidden = ok;
    root.classList.toggle("is-reconnecting", !ok);
  }

  function connect() {
    var url = root.getAttribute("data-stream") + "?after=" + encodeURIComponent(lastId);
    source = new EventSource(url);
    source.onopen = function () { connected(true); refresh(); };
    source.onerror = function () {
      connected(false);
      if (source.readyState === EventSource.CLOSED) { reconnectLater(); }
    };
    ["questions.created", "questions.updated", "agenda.updated", "onair.changed",
     "meeting.status"].forEach(function (type) {
      source.addEventListener(type, function (e) {
        if (e.lastEventId) { lastId = e.lastEventId; }
        refresh();
      });
    });
  }

  // The browser retries by itself (sending Last-Event-ID); if it gives up, start again
  // from the last event seen.
  function reconnectLater() {
    if (retry) { return; }
    retry = window.setTimeout(function () { retry = null; source.close(); connect(); }, 2000);
  }

  function tick() {
    var clock = document.querySelector("[data-clock]");
    if (!clock) { return; }
    var started = clock.getAttribute("data-started");
    if (!started) { return; }
    var seconds = Math.max(0, Math.floor((Date.now() - Date.parse(started)) / 1000));
    clock.textContent = Math.floor(seconds / 60) + ":" + ("0" + (seconds % 60)).slice(-2) + " min";
  }

  function press(scope, key) {
    var button = scope && scope.querySelector("button[data-key='" + key + "']");
    if (button) { button.click(); return true; }
    return false;
  }

  function move(step) {
    var list = cards();
    if (!list.length) { return; }
    var at = list.findIndex(function (c) { return c.id === selected; });
    at = at < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + step));
    selected = list[at].id;
    mark();
    list[at].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var tag = (e.target && e.target.tagName) || "";
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(tag)) { return; }
    var key = e.key;
    var card = selected ? document.getElementById(selected) : null;
    var current = document.querySelector("[data-current]");
    var handled = true;
    if (key === "j" || key === "ArrowDown") { move(1); }
    else if (key === "k" || key === "ArrowUp") { move(-1); }
    else if (key === "a" || key === "p" || key === "x" || key === "f") { handled = press(card, key); }
    else if (key === "d" || key === "s" || key === "h" || key === "o") { handled = press(current, key); }
    else if (key === "n") { handled = press(document.getElementById("next"), "n"); }
    else if (key === "w") {
      var select = current && current.querySelector("[data-key-focus='w']");
      if (select) { select.focus(); } else { handled = false; }
    } else { handled = false; }
    if (handled) { e.preventDefault(); }
  });

  // touch (or a click) selects a card too
  document.addEventListener("click", function (e) {
    var card = e.target.closest && e.target.closest("[data-card]");
    if (card) { selected = card.id; mark(); }
  });

  connect();
  window.setInterval(tick, 1000);
  tick();
})();

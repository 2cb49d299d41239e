// Agenda builder shortcuts. The Up/Down buttons (plain forms) are the way that always works;
// Alt+ArrowUp/Alt+ArrowDown on a focused item press them, and dragging by the handle sends the
// whole order at once. After either, the page reloads so numbers and times are recomputed.
(function () {
  "use strict";
  var script = document.getElementById("agenda-builder-script");
  if (!script) { return; }
  var orderUrl = script.getAttribute("data-order-url");
  var csrf = script.getAttribute("data-csrf");

  // come back to the item that just moved (by its buttons or keys: the hash; dragged: stored)
  var focusId = sessionStorage.getItem("agenda-focus");
  sessionStorage.removeItem("agenda-focus");
  if (!focusId && location.hash.indexOf("#item-") === 0) { focusId = location.hash.slice(1); }
  if (focusId) {
    var moved = document.getElementById(focusId);
    if (moved) { moved.focus(); }
  }

  document.querySelectorAll(".of-agenda-item").forEach(function (item) {
    item.addEventListener("keydown", function (event) {
      if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) { return; }
      if (event.target !== item) { return; }  // typing in the edit form keeps its keys
      event.preventDefault();
      var button = item.querySelector('button[data-move="' + (event.key === "ArrowUp" ? "up" : "down") + '"]');
      if (button) { button.click(); }
    });
  });

  function currentOrder() {
    var order = {};
    document.querySelectorAll(".of-agenda-list").forEach(function (list) {
      order[list.getAttribute("data-section")] = Array.prototype.map.call(
        list.querySelectorAll(":scope > .of-agenda-item"),
        function (li) { return parseInt(li.getAttribute("data-item-id"), 10); }
      );
    });
    return order;
  }

  function send(movedId) {
    fetch(orderUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(currentOrder())
    }).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (body) { throw new Error(body.error || "not saved"); });
      }
      // remembered rather than put in the URL: a hash change is a navigation of its own
      sessionStorage.setItem("agenda-focus", "item-" + movedId);
      location.reload();
    }).catch(function (err) {
      window.alert("The new order was not saved: " + err.message);
      location.reload();
    });
  }

  if (typeof window.Sortable === "undefined") { return; }
  document.querySelectorAll(".of-agenda-list").forEach(function (list) {
    window.Sortable.create(list, {
      group: "agenda",
      handle: ".of-drag-handle",
      draggable: ".of-agenda-item",
      animation: 120,
      onEnd: function (event) { send(event.item.getAttribute("data-item-id")); }
    });
  });
})();

// Keyboard navigation between the board's cards: j / k next and previous, o opens the questions.
(function () {
  "use strict";
  function cards() { return Array.prototype.slice.call(document.querySelectorAll("[data-card]")); }
  function current() {
    var el = document.activeElement;
    return el && el.closest ? el.closest("[data-card]") : null;
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target;
    if (target && target.matches && target.matches("input, select, textarea, [contenteditable]")) { return; }
    var list = cards();
    if (!list.length) { return; }
    var here = current();
    var index = here ? list.indexOf(here) : -1;
    var onCard = here && here === document.activeElement;
    var next = null;
    if (event.key === "j" || (onCard && event.key === "ArrowDown")) {
      next = list[Math.min(index + 1, list.length - 1)];
    } else if (event.key === "k" || (onCard && event.key === "ArrowUp")) {
      next = list[Math.max(index - 1, 0)];
    } else if (here && (event.key === "o" || (onCard && event.key === "Enter"))) {
      var details = here.querySelector("details");
      if (details) { details.open = !details.open; event.preventDefault(); }
      return;
    } else {
      return;
    }
    event.preventDefault();
    if (next) { next.focus(); }
  });
})();

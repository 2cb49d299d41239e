// Suggested groups (triage/_suggestions.html): with focus on a question's suggestions (or any
// control inside its card), pressing 1, 2 or 3 accepts that suggestion. Forms work without it.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !/^[1-3]$/.test(event.key)) return;
    var target = event.target;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
    var card = target && target.closest ? target.closest("[data-question-id]") : null;
    var box = card ? card.querySelector("[data-suggestions-for]") : null;
    if (!box) return;
    var button = box.querySelector('[data-suggestion-key="' + event.key + '"]');
    if (!button) return;
    event.preventDefault();
    button.form.requestSubmit ? button.form.requestSubmit(button) : button.form.submit();
  });
})();

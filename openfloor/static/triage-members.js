// Loads a card's questions when its "Questions" opens (the board stays light at meeting size).
(function () {
  "use strict";
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details[data-members-url]") || !details.open) { return; }
    var slot = details.querySelector("[data-members]");
    if (!slot || slot.hasAttribute("data-loaded")) { return; }
    fetch(details.getAttribute("data-members-url"), {
      credentials: "same-origin", headers: { "X-Fragment": "members" }
    })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) { slot.innerHTML = html; slot.setAttribute("data-loaded", ""); });
  }, true);
})();

// Broadcast overlay: shows what the chair put on air, animating out the old and in the new.
(function () {
  "use strict";
  var root = document.querySelector("[data-overlay]");
  if (!root) { return; }
  var box = root.querySelector("[data-lower-third]");
  var question = root.querySelector("[data-question]");
  var attribution = root.querySelector("[data-attribution]");
  var version = Number(root.getAttribute("data-version") || 0);
  var swap = null;
  var OUT_MS = 450;

  function show(state) {
    if (state.version === version) { return; }
    version = state.version;
    root.setAttribute("data-version", String(version));
    window.clearTimeout(swap);
    var wasOn = box.classList.contains("is-on");
    box.classList.remove("is-on");
    swap = window.setTimeout(function () {
      question.textContent = state.question || "";
      attribution.textContent = state.attribution || "";
      if (state.visible) { box.classList.add("is-on"); }
    }, wasOn ? OUT_MS : 0);
  }

  var source = new EventSource(root.getAttribute("data-stream"));
  source.addEventListener("overlay", function (e) { show(JSON.parse(e.data)); });
  source.addEventListener("revoked", function () {
    source.close();
    show({ version: -1, visible: false, question: "", attribution: "" });
  });
})();

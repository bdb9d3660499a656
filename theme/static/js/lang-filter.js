// Language filter for story lists: show all, English or Chinese stories (no network use).
(function () {
  "use strict";
  document.querySelectorAll(".lang-filter").forEach(function (bar) {
    var list = bar.nextElementSibling;
    if (!list) { return; }
    bar.hidden = false;
    bar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-lang-filter]");
      if (!button) { return; }
      var lang = button.getAttribute("data-lang-filter");
      bar.querySelectorAll("button").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
      list.querySelectorAll("li[data-lang]").forEach(function (item) {
        var itemLang = (item.getAttribute("data-lang") || "").split("-")[0];
        item.hidden = Boolean(lang) && itemLang !== lang;
      });
    });
  });
})();

// The error summary (macro error_summary): focused when the page opens, so that a screen reader
// reads what went wrong first; each link moves focus to its field, not only the scroll position.
(function () {
  function start() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      // The label above the field stays in view with it.
      var label = document.querySelector("label[for='" + target.id + "']") || target;
      label.scrollIntoView();
      target.focus({preventScroll: true});
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// Review: keys for the scan viewer and the queue. Progressive enhancement only: the links and
// forms these keys press work without this file.
(function () {
  "use strict";

  // Keys go to the field being typed in (a ticked box or a button does not take letters).
  function typing(target) {
    if (!target || !target.closest) return false;
    var field = target.closest("input, textarea, select, [contenteditable]");
    return !!field && !(field.matches("input") && /^(checkbox|radio|button|submit|reset)$/.test(field.type));
  }

  // The scan viewer (admin/result.html): + / - / 0 zoom, arrows or PageUp/PageDown turn the page.
  var VIEWER_KEYS = {
    "+": "zoom-in", "=": "zoom-in", "-": "zoom-out", "_": "zoom-out", "0": "zoom-reset",
    ArrowLeft: "prev", PageUp: "prev", ArrowRight: "next", PageDown: "next"
  };

  function viewerKey(event) {
    var viewer = document.querySelector("[data-review-viewer]");
    if (!viewer || event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    var action = VIEWER_KEYS[event.key];
    if (!action) return;
    // Arrows inside the zoomed image scroll it, as they would anywhere else.
    if (action.indexOf("zoom") !== 0 && event.key.indexOf("Arrow") === 0 && event.target.closest &&
        event.target.closest(".viewer-frame")) return;
    var link = viewer.querySelector('[data-key="' + action + '"]');
    if (!link) return;
    event.preventDefault();
    link.click();
  }

  // The queue (admin/review.html): a select-all box, and j/k (or arrows with Alt) between cards.
  function setUpQueue() {
    var queue = document.querySelector("[data-review-queue]");
    if (!queue) return;
    var boxes = Array.prototype.slice.call(queue.querySelectorAll('input[type=checkbox][name="result_id"]'));
    var holder = document.getElementById("select-all-holder");
    if (boxes.length && holder) {
      var label = document.createElement("label");
      var all = document.createElement("input");
      all.type = "checkbox";
      all.id = "select-all";
      label.appendChild(all);
      label.appendChild(document.createTextNode(" Chọn tất cả kết quả trên trang này"));
      holder.appendChild(label);
      holder.hidden = false;
      var sync = function () {
        var ticked = boxes.filter(function (box) { return box.checked; }).length;
        all.checked = ticked === boxes.length;
        all.indeterminate = ticked > 0 && ticked < boxes.length;
      };
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
      });
      boxes.forEach(function (box) { box.addEventListener("change", sync); });
      sync();
    }
    var cards = Array.prototype.slice.call(queue.querySelectorAll(".review-card"));
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || typing(event.target) || !cards.length) return;
      var step = { j: 1, k: -1 }[event.key];
      if (!step) return;
      var current = cards.findIndex(function (card) { return card.contains(document.activeElement); });
      var next = Math.min(cards.length - 1, Math.max(0, current === -1 ? 0 : current + step));
      event.preventDefault();
      cards.forEach(function (card) { card.classList.remove("current"); });
      cards[next].classList.add("current");
      var heading = cards[next].querySelector("h2 a");
      if (heading) { heading.focus(); cards[next].scrollIntoView({ block: "nearest" }); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "x" || event.ctrlKey || event.metaKey || typing(event.target)) return;
      var card = cards.find(function (c) { return c.contains(document.activeElement); });
      var box = card && card.querySelector('input[type=checkbox][name="result_id"]');
      if (box) { event.preventDefault(); box.click(); }
    });
  }

  document.addEventListener("keydown", viewerKey);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpQueue);
  } else {
    setUpQueue();
  }
})();

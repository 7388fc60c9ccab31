// "Dữ liệu của tôi": while an export is being built, the progress part of the page is fetched again
// every few seconds and put in place (without JavaScript the page's "Cập nhật tiến độ" link does it).
(function () {
  "use strict";
  function poll() {
    var part = document.getElementById("dong-goi");
    if (!part || !part.hasAttribute("data-mydata-busy")) return;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("dong-goi");
          if (fresh) {
            part.innerHTML = fresh.innerHTML;
            if (!fresh.hasAttribute("data-mydata-busy")) part.removeAttribute("data-mydata-busy");
          }
          poll();
        })
        .catch(function () { poll(); });
    }, 5000);
  }
  document.addEventListener("DOMContentLoaded", poll);
})();

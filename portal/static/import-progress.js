// The import job page follows its job without reloading: it asks for the job's status every two
// seconds and rewrites only the progress region (a polite live region) and the counts. Without this
// file the page reloads itself (<noscript> meta refresh). When the job ends, a link offers the full
// page (failed rows, the report), which only a reload brings.
(function () {
  var region = document.getElementById("import-progress");
  if (!region || !window.fetch) return;
  var url = region.getAttribute("data-status-url");
  function set(name, text) {
    document.querySelectorAll("[data-field=" + name + "]").forEach(function (el) { el.textContent = text; });
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (job) {
        set("label", job.label);
        set("rows", job.total_rows ? " — đã xử lý " + job.done_rows + "/" + job.total_rows + " dòng" : "");
        set("imported", job.imported); set("skipped", job.skipped); set("failed", job.failed);
        var bar = region.querySelector("progress");
        bar.value = job.percent; bar.textContent = job.percent + "%";
        if (job.running) { setTimeout(poll, 2000); return; }
        set("note", ". ");
        var link = document.createElement("a");
        link.href = window.location.pathname;
        link.textContent = "Tải lại trang để xem báo cáo từng dòng";
        region.querySelector("[data-field=note]").appendChild(link);
      })
      .catch(function () { setTimeout(poll, 10000); });  // a hiccup of the network: try again, slower
  }
  setTimeout(poll, 2000);
})();

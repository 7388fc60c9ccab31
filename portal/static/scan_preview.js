// The upload form (admin/result_form.html): as soon as a scan is chosen it is sent to be checked
// and held (POST data-hold-url), and its first page is shown beside the form; the hidden held_token
// then stands for the file, so the submit does not send it twice. Without this file the form still
// holds the scan at the first submit and shows its page then.
(function () {
  function start() {
    var form = document.querySelector("form[data-hold-url]");
    if (!form) return;
    var input = form.querySelector("input[type=file]");
    var token = form.querySelector("input[data-held-token]");
    var heldNote = document.getElementById("held-file");
    var preview = document.querySelector("[data-scan-preview]");
    var csrf = form.querySelector("input[name=csrf_token]");
    var heldFile = null;
    if (!input || !token || !preview) return;
    preview.setAttribute("aria-live", "polite");

    function say(text, isError) {
      preview.textContent = "";
      var p = document.createElement("p");
      p.className = isError ? "error" : "muted";
      p.textContent = text;
      preview.appendChild(p);
    }

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      heldFile = null;
      if (!file) return;
      var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
      if (limit && file.size > limit) return;  // portal.js says so at the field
      say("Đang kiểm tra tệp " + file.name + "…", false);
      var body = new FormData();
      body.append("file", file);
      body.append("csrf_token", csrf ? csrf.value : "");
      fetch(form.getAttribute("data-hold-url"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRFToken": csrf ? csrf.value : ""}
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (answer) {
        if (input.files[0] !== file) return;  // another file was chosen meanwhile
        if (!answer.ok) { say(answer.data.message || "Không kiểm tra được tệp.", true); return; }
        var held = answer.data;
        heldFile = file;
        token.value = held.token;
        if (heldNote) {
          heldNote.textContent = "";
          heldNote.appendChild(document.createTextNode("Đã giữ tệp "));
          var name = document.createElement("strong");
          name.textContent = held.name;
          heldNote.appendChild(name);
          heldNote.appendChild(document.createTextNode(" (" + held.size + ") — không cần chọn lại."));
          heldNote.hidden = false;
        }
        preview.textContent = "";
        var image = document.createElement("img");
        image.src = held.preview_url;
        image.alt = "Trang đầu của tệp " + held.name;
        preview.appendChild(image);
        var pages = document.createElement("p");
        pages.className = "muted";
        pages.textContent = held.pages + " trang.";
        preview.appendChild(pages);
      }).catch(function () {
        say("Chưa xem trước được tệp; tệp vẫn được gửi khi bấm Lưu.", false);
      });
    });

    // The held scan stands for the chosen file: it is not sent a second time.
    form.addEventListener("submit", function () {
      if (heldFile && input.files[0] === heldFile && token.value) input.value = "";
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

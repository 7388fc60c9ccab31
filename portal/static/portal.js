// Progressive enhancement only: every page works without this file.
// Tell the user at once when a chosen file is over the upload limit, instead of after sending it.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
  var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
  var file = input.files && input.files[0];
  if (file && file.size > limit) {
    input.setCustomValidity("Tệp vượt quá giới hạn " + Math.round(limit / 1048576) + " MB.");
  } else {
    input.setCustomValidity("");
  }
  input.reportValidity();
});

// A form marked data-once (issuing a signed copy, for one) is sent once: a second click while the
// first is on its way would issue a second copy.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.matches || !form.matches("form[data-once]")) return;
  if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
  form.setAttribute("data-sent", "1");
  var button = form.querySelector("button[type=submit]");
  if (button) { button.setAttribute("aria-busy", "true"); button.textContent = button.getAttribute("data-busy") || button.textContent; }
});

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

// Share links (me/copy.html): a "copy the link" button next to the link just made. Without
// JavaScript the link is still there to select and copy by hand.
(function () {
  "use strict";
  document.querySelectorAll("[data-share-url]").forEach(function (input) {
    if (!navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary share-copy";
    button.textContent = "Chép đường dẫn";
    var said = document.createElement("span");
    said.setAttribute("role", "status");
    said.className = "share-copied";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        said.textContent = "Đã chép đường dẫn.";
      }, function () {
        input.select();
        said.textContent = "Không chép tự động được; đường dẫn đã được chọn, hãy chép bằng tay.";
      });
    });
    input.insertAdjacentElement("afterend", button);
    button.insertAdjacentElement("afterend", said);
  });
  var made = document.getElementById("vua-tao");
  if (made) made.focus();
})();

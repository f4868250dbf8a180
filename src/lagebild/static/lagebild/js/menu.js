// Phones: folds the main navigation and the user box behind the "Menü" button, so the header
// takes one line instead of a quarter of the screen. Progressive enhancement: without this
// script the header shows every link. The button is a native button (Enter and Space work);
// Escape closes the open menu and puts the focus back on the button.
(function () {
  "use strict";
  var header = document.querySelector(".site-header");
  var button = header && header.querySelector(".menu-toggle");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) {
    return;
  }

  function isOpen() {
    return header.classList.contains("menu-open");
  }

  function setOpen(open) {
    header.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  button.addEventListener("click", function () {
    setOpen(!isOpen());
  });
  header.addEventListener("keydown", function (event) {
    // The button is hidden on wider screens, where the menu is always shown.
    if (event.key === "Escape" && isOpen() && button.offsetParent !== null) {
      setOpen(false);
      button.focus();
    }
  });
  header.classList.add("menu-ready");
})();

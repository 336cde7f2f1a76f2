/* Every page's tables fit a phone: a table not already inside a .table-responsive wrapper gets one, so a wide
   table scrolls inside its own box instead of making the whole page wider than the screen. */
(function () {
  "use strict";
  document.querySelectorAll("main table").forEach(function (table) {
    if (table.closest(".table-responsive")) return;
    var wrapper = document.createElement("div");
    wrapper.className = "table-responsive";
    table.parentNode.insertBefore(wrapper, table);
    wrapper.appendChild(table);
  });
})();

/* Behaviour that would otherwise sit in onclick/onchange attributes, which the Content-Security-Policy refuses:
   a select marked data-submit-on-change sends its form when changed, a button with data-confirm asks first. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof HTMLSelectElement && field.hasAttribute("data-submit-on-change") && field.form) {
      field.form.submit();
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });
})();

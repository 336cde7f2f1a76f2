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

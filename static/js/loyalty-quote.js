// The quote form on the customer card and the caller's screen-pop: ask for the quote and show it under the form,
// without leaving the page (the operator is on the phone). Delegated from the document, because the console swaps
// caller cards in after the page loaded. Without JavaScript the form opens the quote in a new tab.
(function () {
  "use strict";
  if (window.retainQuoteBound) { return; }
  window.retainQuoteBound = true;
  document.addEventListener("submit", async function (event) {
    const form = event.target.closest("[data-quote-form]");
    if (!form) { return; }
    event.preventDefault();
    const target = form.querySelector("[data-quote-result]");
    const url = form.action + "?" + new URLSearchParams(new FormData(form)).toString();
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      target.innerHTML = await response.text();
    } catch (error) {
      target.textContent = form.dataset.failed || "";
    }
  });
})();

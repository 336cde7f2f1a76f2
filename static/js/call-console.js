// The operator's console: ask every second whether a call is ringing for me, and show the caller's card at once.
// Polling (not a socket) keeps it working behind any proxy with plain WSGI workers; one indexed query a second
// per open console is nothing for the database.
(function () {
  "use strict";
  const area = document.getElementById("caller-card");
  const banner = document.getElementById("call-banner");
  const bannerText = document.getElementById("call-banner-text");
  if (!area) { return; }
  const liveUrl = area.dataset.liveUrl;
  let shownCall = area.dataset.callId || "";
  let busy = false;

  async function poll() {
    if (busy) { return; }
    busy = true;
    try {
      const response = await fetch(liveUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" });
      if (!response.ok) { return; }
      const { call } = await response.json();
      if (!call) {
        banner.classList.add("d-none");
        return;
      }
      bannerText.textContent = call.state_label + ": " + call.phone_display;
      banner.classList.remove("d-none");
      if (String(call.id) !== shownCall) {
        const card = await fetch(call.card_url, { credentials: "same-origin" });
        if (card.ok) {
          area.innerHTML = await card.text();
          shownCall = String(call.id);
          area.dataset.callId = shownCall;
        }
      }
    } catch (error) {
      // A dropped request is retried on the next tick; nothing to tell the operator.
    } finally {
      busy = false;
    }
  }

  setInterval(poll, 1000);
  poll();
})();

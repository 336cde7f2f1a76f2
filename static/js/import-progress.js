// Import progress: ask the server every second until the import is done or failed.
(function () {
  "use strict";
  const box = document.getElementById("import-progress");
  if (!box) { return; }
  const field = (name) => box.querySelector('[data-field="' + name + '"]');
  const finished = (state) => state === "done" || state === "failed";
  if (finished(box.dataset.state)) { return; }
  const timer = setInterval(async function () {
    try {
      const response = await fetch(box.dataset.url, { credentials: "same-origin" });
      if (!response.ok) { return; }
      const data = await response.json();
      field("state_label").textContent = data.state_label;
      const bar = field("bar");
      bar.style.width = data.percent + "%";
      bar.textContent = data.percent + "%";
      for (const name of ["processed_rows", "created", "updated", "unchanged", "skipped_rows", "error"]) {
        field(name).textContent = data[name];
      }
      if (data.has_report) { field("report").classList.remove("d-none"); }
      if (finished(data.state)) {
        bar.classList.remove("progress-bar-animated");
        clearInterval(timer);
      }
    } catch (error) {
      // A dropped request is retried on the next tick.
    }
  }, 1000);
})();

// Model page: the fit plot, and the Run-now progress bar that asks the server every second until the run ends.
(function () {
  "use strict";
  const fitSource = document.getElementById("fit-data");
  if (fitSource && typeof Chart !== "undefined") {
    const fit = JSON.parse(fitSource.textContent);
    new Chart(document.getElementById("fit-chart"), {
      type: "bar",
      data: {
        labels: fit.labels,
        datasets: [
          { label: fit.names.actual, data: fit.actual, backgroundColor: "rgba(13, 110, 253, 0.7)" },
          { label: fit.names.expected, data: fit.expected, backgroundColor: "rgba(253, 126, 20, 0.7)" },
        ],
      },
      options: { scales: { y: { beginAtZero: true } } },
    });
  }

  const box = document.getElementById("scoring-run-progress");
  if (!box || box.dataset.active !== "true") { return; }
  const field = (name) => box.querySelector('[data-field="' + name + '"]');
  const timer = setInterval(async function () {
    try {
      const response = await fetch(box.dataset.url, { credentials: "same-origin" });
      if (!response.ok) { return; }
      const data = await response.json();
      const label = field("state_label");
      label.textContent = data.state_label;
      const bar = field("bar");
      bar.style.width = data.progress + "%";
      bar.textContent = data.progress + "%";
      field("error").textContent = data.error;
      if (data.finished) {
        clearInterval(timer);
        box.dataset.state = data.state;
        bar.classList.remove("progress-bar-animated");
        const failed = data.state === "failed";
        bar.classList.add(failed ? "bg-danger" : "bg-success");
        label.classList.remove("text-bg-secondary");
        label.classList.add(failed ? "text-bg-danger" : "text-bg-success");
        field("reload").classList.remove("d-none");
        const button = document.querySelector("[data-testid=run-now]");
        if (button) { button.disabled = false; }
        const busy = document.querySelector("[data-testid=run-busy]");
        if (busy) { busy.remove(); }
      }
    } catch (error) {
      // A dropped request is retried on the next tick.
    }
  }, 1000);
})();

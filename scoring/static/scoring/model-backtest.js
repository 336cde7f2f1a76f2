// Model page: the backtest's charts (weekly tracking, revenue captured, ROC curve), and while a backtest waits or
// runs, a poll of its status every two seconds that swaps in the finished section without reloading the page.
(function () {
  "use strict";

  function draw(section) {
    const source = section.querySelector("#backtest-data");
    if (!source || typeof Chart === "undefined") { return; }
    const data = JSON.parse(source.textContent);
    const tracking = data.tracking;
    new Chart(section.querySelector("#backtest-tracking-chart"), {
      type: "line",
      data: {
        labels: tracking.labels,
        datasets: [
          { label: tracking.names.actual, data: tracking.actual, borderColor: "rgb(13, 110, 253)",
            backgroundColor: "rgba(13, 110, 253, 0.2)", tension: 0.2 },
          { label: tracking.names.predicted, data: tracking.predicted, borderColor: "rgb(253, 126, 20)",
            backgroundColor: "rgba(253, 126, 20, 0.2)", borderDash: [6, 4], tension: 0.2 },
        ],
      },
      options: {
        scales: {
          x: { title: { display: true, text: tracking.names.x } },
          y: { beginAtZero: true, title: { display: true, text: tracking.names.y } },
        },
      },
    });
    const capture = data.capture;
    new Chart(section.querySelector("#backtest-capture-chart"), {
      type: "bar",
      data: {
        labels: capture.labels,
        datasets: [
          { label: capture.names.importance, data: capture.importance, backgroundColor: "rgba(13, 110, 253, 0.7)" },
          { label: capture.names.spent, data: capture.spent, backgroundColor: "rgba(32, 201, 151, 0.7)" },
          { label: capture.names.random, data: capture.random, backgroundColor: "rgba(108, 117, 125, 0.6)" },
        ],
      },
      options: { scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: capture.names.y } } } },
    });
    const roc = data.roc;
    new Chart(section.querySelector("#backtest-roc-chart"), {
      type: "scatter",
      data: {
        datasets: [
          { label: roc.names.curve, data: roc.points, showLine: true, borderColor: "rgb(220, 53, 69)",
            backgroundColor: "rgba(220, 53, 69, 0.6)", pointRadius: 2 },
          { label: roc.names.diagonal, data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true,
            borderColor: "rgb(108, 117, 125)", borderDash: [4, 4], pointRadius: 0 },
        ],
      },
      options: {
        aspectRatio: 1.8,
        scales: {
          x: { min: 0, max: 1, title: { display: true, text: roc.names.x } },
          y: { min: 0, max: 1, title: { display: true, text: roc.names.y } },
        },
      },
    });
  }

  // Swap in the section as the page now renders it (the finished backtest's figures, charts and form).
  async function refresh(section, pageUrl) {
    const response = await fetch(pageUrl, { credentials: "same-origin" });
    const page = response.ok ? new DOMParser().parseFromString(await response.text(), "text/html") : null;
    const fresh = page ? page.getElementById("backtest") : null;
    if (!fresh) { throw new Error("the model page did not answer"); }
    section.replaceWith(fresh);
    draw(fresh);
    watch(fresh);
  }

  function watch(section) {
    const box = section.querySelector("#backtest-progress");
    if (!box) { return; }
    const label = box.querySelector('[data-field="state_label"]');
    const timer = setInterval(async function () {
      try {
        const response = await fetch(box.dataset.url, { credentials: "same-origin" });
        if (!response.ok) { return; }
        const data = await response.json();
        label.textContent = data.state_label;
        if (!data.finished) { return; }
        clearInterval(timer);
        // Failing that, the whole page shows the finished backtest.
        refresh(section, box.dataset.pageUrl).catch(function () { window.location.reload(); });
      } catch (error) {
        // A dropped request is retried on the next tick.
      }
    }, 2000);
  }

  const section = document.getElementById("backtest");
  if (section) {
    draw(section);
    watch(section);
  }
})();

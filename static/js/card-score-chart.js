// The customer card's score history: importance and churn risk by month, the current score as the last point.
// Data comes from the page (json_script "score-history"); both series share the 0–100 scale.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("score-history");
    var canvas = document.getElementById("score-history-chart");
    if (!source || !canvas || typeof Chart === "undefined") {
      return;
    }
    var history = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: history.labels,
        datasets: [
          {
            label: history.names.importance,
            data: history.importance,
            borderColor: "#0d6efd",
            backgroundColor: "#0d6efd",
            tension: 0.2,
          },
          {
            label: history.names.churn,
            data: history.churn,
            borderColor: "#dc3545",
            backgroundColor: "#dc3545",
            borderDash: [4, 3],
            spanGaps: false,
            tension: 0.2,
          },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { min: 0, max: 100, ticks: { stepSize: 25 } } },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      },
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

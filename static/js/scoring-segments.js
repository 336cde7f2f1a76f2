// Segments page: customers and value per RF segment and per tier; a click on a bar opens the filtered customer list.
(function () {
  "use strict";
  const source = document.getElementById("segments-data");
  if (!source || typeof Chart === "undefined") { return; }
  const data = JSON.parse(source.textContent);

  function openList(parameter, keys) {
    return function (event, elements) {
      if (!elements.length) { return; }
      const key = keys[elements[0].index];
      window.location.href = data.list_url + "?" + parameter + "=" + encodeURIComponent(key);
    };
  }
  function pointer(event, elements) {
    event.native.target.style.cursor = elements.length ? "pointer" : "default";
  }

  const segments = data.segments;
  const horizontal = {
    indexAxis: "y",
    maintainAspectRatio: false,
    onClick: openList("segment", segments.keys),
    onHover: pointer,
    scales: { x: { beginAtZero: true }, y: { ticks: { autoSkip: false } } },
  };
  new Chart(document.getElementById("segments-chart"), {
    type: "bar",
    data: {
      labels: segments.labels,
      datasets: [{ label: data.names.customers, data: segments.customers, backgroundColor: segments.colours }],
    },
    options: Object.assign({}, horizontal, { plugins: { legend: { display: false }, title: { display: true, text: data.names.customers } } }),
  });
  new Chart(document.getElementById("segments-value-chart"), {
    type: "bar",
    data: {
      labels: segments.labels,
      datasets: [
        { label: data.names.value, data: segments.value, backgroundColor: "rgba(13, 110, 253, 0.6)" },
        { label: data.names.clv, data: segments.clv, backgroundColor: "rgba(25, 135, 84, 0.6)" },
      ],
    },
    options: horizontal,
  });

  const tiers = data.tiers;
  new Chart(document.getElementById("tiers-chart"), {
    type: "doughnut",
    data: { labels: tiers.labels, datasets: [{ label: data.names.customers, data: tiers.customers, backgroundColor: tiers.colours }] },
    options: { maintainAspectRatio: false, onClick: openList("tier", tiers.keys), onHover: pointer },
  });
})();

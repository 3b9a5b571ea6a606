/* The supervision board's two charts, drawn from the JSON the page carries in
   <script type="application/json" id="board-chart-data"> (no inline script: the CSP forbids it).
   Drawn on load and again whenever htmx swaps in fresh counts (every 60 s). */
(function () {
  "use strict";

  var COLOURS = { red: "#c53030", yellow: "#b7791f", green: "#1e7d32", suspended: "#9aa5b1" };

  function chartOn(element) {
    if (!element || !window.echarts) return null;
    return window.echarts.getInstanceByDom(element) || window.echarts.init(element, null, { locale: "ZH" });
  }

  function series(name, key, data) {
    return {
      name: name, type: "bar", stack: "cards", data: data[key],
      itemStyle: { color: COLOURS[key] }, emphasis: { focus: "series" }
    };
  }

  function draw() {
    var holder = document.getElementById("board-chart-data");
    if (!holder) return;
    var data = JSON.parse(holder.textContent);
    var bars = chartOn(document.getElementById("chart-departments"));
    if (bars) {
      bars.setOption({
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { top: 0 },
        grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: data.departments, inverse: true },
        series: [
          series("红牌", "red", data), series("黄牌", "yellow", data),
          series("绿牌", "green", data), series("挂起", "suspended", data)
        ]
      }, true);
    }
    var weekly = chartOn(document.getElementById("chart-weekly"));
    if (weekly) {
      weekly.setOption({
        // The chart says what it counts: its accessible name, shown as its title.
        title: {
          text: document.getElementById("chart-weekly").getAttribute("aria-label"),
          left: "center", textStyle: { fontSize: 13, fontWeight: "normal" }
        },
        tooltip: { trigger: "axis" },
        grid: { left: 8, right: 16, bottom: 8, top: 44, containLabel: true },
        xAxis: { type: "category", data: data.weeks },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ name: "红牌", type: "line", data: data.weekly_red, itemStyle: { color: COLOURS.red } }]
      }, true);
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () {
    ["chart-departments", "chart-weekly"].forEach(function (id) {
      var chart = chartOn(document.getElementById(id));
      if (chart) chart.resize();
    });
  });
})();

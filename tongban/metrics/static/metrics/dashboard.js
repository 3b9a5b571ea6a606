/* The metrics dashboard's charts, drawn from the JSON the page carries in
   <script type="application/json" id="dashboard-chart-data"> (no inline script: the CSP forbids it).
   Every bar, point and slice carries the address of the cases behind it: a click goes there.
   Drawn on load and again when htmx swaps in the figures of another period or scope. */
(function () {
  "use strict";

  var PALETTE = ["#b3261e", "#0b5cad", "#1e7d32", "#b7791f"];
  var CARD_COLOURS = { red_cards: "#c53030", yellow_cards: "#b7791f", bad_review_count: "#6b46c1" };
  var IDS = ["chart-trends", "chart-cards", "chart-channels", "chart-ranking"];

  function chartOn(element) {
    if (!element || !window.echarts) return null;
    var chart = window.echarts.getInstanceByDom(element) || window.echarts.init(element, null, { locale: "ZH" });
    chart.off("click");
    chart.off("finished");
    // Marked once drawn (animation over), so that a test or a wall screen's kiosk script knows.
    chart.on("finished", function () { element.setAttribute("data-drawn", "true"); });
    chart.on("click", function (params) {
      var url = params.data && params.data.url;
      if (url) window.location.assign(url);
    });
    return chart;
  }

  function points(values, urls) {
    return values.map(function (v, i) { return { value: v, url: urls[i] }; });
  }

  function draw() {
    var holder = document.getElementById("dashboard-chart-data");
    if (!holder) return;
    var data = JSON.parse(holder.textContent);
    var grid = { left: 8, right: 16, bottom: 8, top: 40, containLabel: true };

    var trends = chartOn(document.getElementById("chart-trends"));
    if (trends) trends.setOption({
      color: PALETTE,
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
      legend: { top: 0, type: "scroll" }, grid: grid,
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: data.trends.map(function (s) {
        return { name: s.name, type: "line", connectNulls: false, symbolSize: 8, data: points(s.data, s.urls) };
      })
    }, true);

    var cards = chartOn(document.getElementById("chart-cards"));
    if (cards) cards.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", minInterval: 1 },
      series: data.cards.map(function (s) {
        return { name: s.name, type: "bar", data: points(s.data, s.urls), itemStyle: { color: CARD_COLOURS[s.key] } };
      })
    }, true);

    var channels = chartOn(document.getElementById("chart-channels"));
    if (channels) channels.setOption({
      color: ["#0b5cad", "#b7791f"],
      tooltip: { trigger: "item", formatter: "{b}：{c} 件（{d}%）" },
      legend: { top: 0 },
      series: [{ type: "pie", radius: ["35%", "65%"], top: 24,
        label: { formatter: "{b}\n{d}%" },
        data: data.channels.map(function (c) { return { name: c.name, value: c.value, url: c.url }; }) }]
    }, true);

    var ranking = chartOn(document.getElementById("chart-ranking"));
    if (ranking) {
      var r = data.ranking;
      ranking.setOption({
        tooltip: { trigger: "item", formatter: function (p) {
          return p.name + "：" + (p.value == null ? "—" : p.value + (r.percent ? "%" : "")) + "（" + r.grades[p.dataIndex] + "）";
        } },
        grid: { left: 8, right: 40, bottom: 8, top: 8, containLabel: true },
        xAxis: r.percent ? { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } } : { type: "value" },
        yAxis: { type: "category", data: r.departments, inverse: true },
        series: [{ name: r.name, type: "bar", label: { show: true, position: "right" },
          data: r.values.map(function (v, i) { return { value: v, url: r.urls[i], itemStyle: { color: r.colours[i] } }; }) }]
      }, true);
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () {
    IDS.forEach(function (id) {
      var el = document.getElementById(id);
      var chart = el && window.echarts && window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();

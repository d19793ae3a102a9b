// The statistics dashboard: draws the trend and the ranking from the figures the page
// carries (json_script), with vendored ECharts. A click on a region's bar opens that
// region's dashboard (drill-down). The same numbers are in the tables under each chart.
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var figures = data("dashboard-data");
  if (!figures || typeof echarts === "undefined") { return; }
  var accent = "#0b6e4f", muted = "#9aa5b1", warn = "#c62828";

  function targetLine(value) {
    if (value === null) { return undefined; }
    return { silent: true, symbol: "none", lineStyle: { color: warn, type: "dashed" },
             label: { formatter: figures.labels.target + " " + value }, data: [{ yAxis: value }] };
  }

  var trendNode = document.getElementById("chart-trend");
  if (trendNode) {
    var trendChart = echarts.init(trendNode, null, { renderer: "canvas" });
    trendChart.setOption({
      animation: false,
      grid: { left: 48, right: 24, top: 28, bottom: 36 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: figures.trend.map(function (p) { return p.period; }) },
      yAxis: { type: "value", scale: true },
      series: [{
        name: figures.indicator, type: "line", connectNulls: false,
        itemStyle: { color: accent },
        data: figures.trend.map(function (p) {
          return { value: p.value, symbol: p.frozen ? "circle" : "emptyCircle", symbolSize: 8 };
        }),
        markLine: targetLine(figures.target)
      }]
    });
    window.addEventListener("resize", function () { trendChart.resize(); });
  }

  var rankingNode = document.getElementById("chart-ranking");
  if (rankingNode && figures.ranking.some(function (r) { return r.rank !== null; })) {
    // Only ranked units are drawn: those with too few to rank or nothing to count stay
    // in the table with the reason, not among the bars. The best is drawn at the top.
    var rows = figures.ranking.filter(function (r) { return r.rank !== null; }).reverse();
    rankingNode.style.height = Math.max(220, 28 * rows.length + 60) + "px";
    var rankingChart = echarts.init(rankingNode, null, { renderer: "canvas" });
    rankingChart.setOption({
      animation: false,
      grid: { left: 96, right: 48, top: 16, bottom: 24 },
      tooltip: { trigger: "item" },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
      series: [{
        type: "bar", cursor: "pointer",
        label: { show: true, position: "right" },
        data: rows.map(function (r) {
          var below = figures.target !== null && r.value !== null &&
            (figures.higher ? r.value < figures.target : r.value > figures.target);
          return { value: r.value, region: r.region, itemStyle: { color: below ? warn : accent } };
        }),
        markLine: targetLine(figures.target)
      }]
    });
    rankingChart.on("click", function (event) {
      if (event.data && event.data.region) {
        var url = new URL(window.location.href);
        url.searchParams.set("region", event.data.region);
        window.location.assign(url.toString());
      }
    });
    window.addEventListener("resize", function () { rankingChart.resize(); });
  }
  document.body.setAttribute("data-charts-ready", "yes");
})();

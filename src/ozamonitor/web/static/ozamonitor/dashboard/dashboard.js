/* Dashboard charts: Plotly (served offline by the app) from the JSON in #charts-data. */
(function () {
  function draw() {
    var el = document.getElementById("charts-data");
    if (!el || typeof Plotly === "undefined") { return; }
    var charts = JSON.parse(el.textContent);
    Object.keys(charts).forEach(function (name) {
      var div = document.getElementById("chart-" + name);
      if (!div) { return; }
      var spec = charts[name];
      Plotly.newPlot(div, spec.data, spec.layout, {displaylogo: false, displayModeBar: false, responsive: true});
      div.setAttribute("data-drawn", "1");
    });
  }
  /* the selection form submits on change, so a keyboard user can also press "Show" */
  function autosubmit() {
    var level = document.getElementById("f-level");
    if (level) { level.addEventListener("change", function () { level.form.requestSubmit(); }); }
  }
  window.addEventListener("DOMContentLoaded", function () { draw(); autosubmit(); });
})();

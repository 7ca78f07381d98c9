/* Charts follow their box.
 *
 * Plotly's `responsive` option lays a chart out again only on a window resize, and skips the charts
 * that are hidden at that moment (those on a tab not shown). A chart drawn before its box had a
 * width (a tab being built), or while another tab was shown when the window narrowed, kept the width
 * it was drawn at and stuck out of a phone's screen. Here every chart is watched: whenever its box
 * changes size (a tab opened, the window or the phone turned) and the drawing no longer matches
 * the box, plotly's resize is triggered for it.
 */
(function () {
  "use strict";
  if (typeof ResizeObserver === "undefined" || typeof MutationObserver === "undefined") return;
  var watched = new WeakSet();
  var timer = null;

  function misfits(chart) {
    var drawing = chart.querySelector(".svg-container");
    if (!drawing || chart.offsetParent === null) return false; // not drawn yet, or hidden: measured later
    var drawn = drawing.getBoundingClientRect().width;
    var box = chart.getBoundingClientRect().width;
    var parent = chart.parentElement ? chart.parentElement.clientWidth : box; // the room the chart has
    return Math.abs(drawn - box) > 1 || drawn > parent + 1;
  }

  function relayout() {
    timer = null;
    var charts = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < charts.length; i++) {
      if (misfits(charts[i])) {
        // plotly's own handler for responsive charts listens for this; it redraws every visible chart
        window.dispatchEvent(new Event("resize"));
        return;
      }
    }
  }

  var boxes = new ResizeObserver(function () {
    if (timer === null) timer = setTimeout(relayout, 120);
  });

  function watchNew() {
    var charts = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < charts.length; i++) {
      if (!watched.has(charts[i])) {
        watched.add(charts[i]);
        boxes.observe(charts[i]); // reports once at once, then on every change of the box's size
      }
    }
  }

  new MutationObserver(watchNew).observe(document.documentElement, { childList: true, subtree: true });
})();

/* Charts follow their box.
 *
 * Plotly's `responsive` option lays a chart out again only on a window resize, and skips the charts
 * that are hidden at that moment (those on a tab not shown). A chart drawn before its box had a
 * width (a tab being built), or while another tab was shown when the window narrowed, kept the width
 * it was drawn at and stuck out of a phone's screen. Here every chart is watched: whenever its box
 * changes size (a tab opened, the window or the phone turned) and the drawing no longer matches
 * the box, plotly's resize is triggered for it. The page is measured again after every change of
 * its content as well, since a chart drawn into a box that already had its size (a tab built while
 * shown, drawn before it was attached: 700 px) changes no box. A chart that three resizes at the same
 * box width did not fit is left alone.
 */
(function () {
  "use strict";
  if (typeof ResizeObserver === "undefined" || typeof MutationObserver === "undefined") return;
  var watched = new WeakSet();
  var tries = new WeakMap(); // chart -> [box width, resizes asked for at that width, when last asked]
  var MAX_TRIES = 3; // a chart that a resize cannot fit (a fixed width) is not asked again and again
  var SETTLE = 400; // ms: plotly redraws a resized chart about 100 ms after the ask, then in steps
  var timer = null;

  function misfits(chart) {
    // the drawing, not its container: a responsive chart's container is 100% wide, so it follows the
    // box at once while the svg inside keeps the width plotly last laid the chart out at
    var drawing = chart.querySelector("svg.main-svg");
    if (!drawing || chart.offsetParent === null) return false; // not drawn yet, or hidden: measured later
    var drawn = drawing.getBoundingClientRect().width;
    var box = chart.getBoundingClientRect().width;
    var parent = chart.parentElement ? chart.parentElement.clientWidth : box; // the room the chart has
    if (Math.abs(drawn - box) <= 1 && drawn <= parent + 1) return false;
    var seen = tries.get(chart), now = Date.now();
    if (!seen || seen[0] !== Math.round(box)) seen = [Math.round(box), 0, 0];
    if (seen[1] >= MAX_TRIES) return false;
    if (now - seen[2] < SETTLE) { // plotly is still redrawing after the last ask: look again later
      later();
      return false;
    }
    seen[1] += 1;
    seen[2] = now;
    tries.set(chart, seen);
    return true;
  }

  function relayout() {
    timer = null;
    var charts = document.querySelectorAll(".js-plotly-plot");
    var any = false;
    for (var i = 0; i < charts.length; i++) {
      if (misfits(charts[i])) any = true;
    }
    // plotly's own handler for responsive charts listens for this; it redraws every visible chart
    if (any) window.dispatchEvent(new Event("resize"));
  }

  function later() {
    if (timer === null) timer = setTimeout(relayout, 120);
  }

  var boxes = new ResizeObserver(later);

  function changed() {
    var charts = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < charts.length; i++) {
      if (!watched.has(charts[i])) {
        watched.add(charts[i]);
        boxes.observe(charts[i]); // reports once at once, then on every change of the box's size
      }
    }
    // a chart drawn into a box that already had its size (a tab built while shown) changes no box:
    // measure after every change of the page too
    if (charts.length) later();
  }

  new MutationObserver(changed).observe(document.documentElement, { childList: true, subtree: true });
})();

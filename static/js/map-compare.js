/* Comparing years on the map page (loaded after map.js, through window.geoMap): a timeline
 * that plays through the years (changing the page's year), and a split view — a second
 * Leaflet map on the right drawing the same indicator for another year, kept at the same
 * centre and zoom as the main map.
 */
(function () {
  "use strict";

  var api = window.geoMap, config = api.config, state = api.state, el = api.el;
  var T = JSON.parse(document.getElementById("map-text").textContent);
  var map = api.map, PLAY_MS = 2500;
  var $ = function (id) { return document.getElementById(id); };
  if (!$("timeline-play")) { return; }

  // --- the timeline -------------------------------------------------------------------------

  var timer = null;

  function setPlaying(on) {
    var button = $("timeline-play");
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? T.pause : T.play;
    if (timer) { clearInterval(timer); timer = null; }
    if (!on) { return; }
    var years = config.years.slice().sort();
    if (state.year === years[years.length - 1]) { api.setYear(years[0]); }
    timer = setInterval(function () {
      if (!api.idle()) { return; }  // each year drawn before the next
      var at = years.indexOf(state.year);
      if (at < 0 || at >= years.length - 1) { setPlaying(false); return; }
      api.setYear(years[at + 1]);
    }, PLAY_MS);
  }

  $("timeline-play").addEventListener("click", function () { setPlaying(!timer); });

  // --- the split view -----------------------------------------------------------------------

  var other = null;              // {map, year, layers: [Leaflet layers], label}
  var moving = false;

  function follow(from, to) {
    if (moving || !to) { return; }
    moving = true;
    to.setView(from.getCenter(), from.getZoom(), {animate: false});
    moving = false;
  }

  function legendUrl(layer, year) {
    var values = Object.assign(api.params(layer), {year: year, lang: config.lang});
    return config.urls.tiles + "/" + layer.id + "/legend.json" + api.query(values);
  }

  function grid(layer, legend, year, pane) {
    var styles = {};
    styles[layer.id] = api.styler(layer, legend);
    var values = layer.kind === "indicator" ? Object.assign(api.params(layer), {year: year}) : {};
    return L.vectorGrid.protobuf((layer.tiles || config.urls.tiles) + "/" + layer.id +
                                 "/{z}/{x}/{y}.mvt" +
                                 api.query(values), {
      rendererFactory: L.canvas.tile, vectorTileLayerStyles: styles, interactive: false,
      pane: pane, minZoom: layer.minzoom, maxNativeZoom: layer.maxzoom, maxZoom: 16});
  }

  // Draw, on the right, the basemap layers shown on the left and the indicator for `year`.
  function drawOther() {
    if (!other) { return; }
    other.layers.forEach(function (layer) { other.map.removeLayer(layer); });
    other.layers = [];
    var mine = (drawOther.seq = (drawOther.seq || 0) + 1);
    var shown = ["sea", "countries", "provinces"].map(function (id) { return api.layers[id]; })
      .filter(function (layer) { return layer && state.visible[layer.id]; });
    var indicator = api.indicatorLayer();
    var wanted = shown.map(function (layer) {
      return api.legendOf(layer).then(function (legend) { return [layer, legend]; });
    });
    if (indicator) {
      wanted.push(api.getJSON(legendUrl(indicator, other.year)).then(function (legend) {
        return [indicator, legend];
      }));
    }
    Promise.all(wanted).then(function (pairs) {
      if (mine !== drawOther.seq || !other) { return; }
      pairs.forEach(function (pair) {
        if (!pair[1]) { return; }
        var pane = "compare-" + pair[0].order;
        if (!other.map.getPane(pane)) {
          other.map.createPane(pane).style.zIndex = String(210 + pair[0].order);
        }
        var layer = grid(pair[0], pair[1], other.year, pane).addTo(other.map);
        var flag = "compare-" + pair[0].id;
        layer.on("loading", function () { api.loading[flag] = true; });
        layer.on("load remove", function () { delete api.loading[flag]; });
        other.layers.push(layer);
      });
      other.label.textContent = String(other.year);
    }).catch(function () { /* recorded */ });
  }

  function yearLabel(container, text) {
    var label = el("div", {"class": "year-label", "aria-live": "polite", text: text});
    container.appendChild(label);
    return label;
  }

  function openSplit() {
    var area = $("map-area");
    area.classList.add("split");
    var box = el("div", {id: "compare-map", "class": "compare-map",
                         "aria-label": T.map_label + " " + $("compare-year").value});
    area.appendChild(box);
    map.invalidateSize({animate: false});
    var right = L.map(box, {zoomControl: false, attributionControl: false,
                            fadeAnimation: false, minZoom: map.getMinZoom(),
                            maxZoom: map.getMaxZoom(), maxBounds: map.options.maxBounds});
    right.setView(map.getCenter(), map.getZoom(), {animate: false});
    other = {map: right, year: Number($("compare-year").value), layers: [],
             label: yearLabel(box, $("compare-year").value),
             left: yearLabel(map.getContainer(), String(state.year))};
    right.on("move", function () { follow(right, map); });
    api.compare = other;
    other.key = drawnKey();
    drawOther();
  }

  function closeSplit() {
    if (!other) { return; }
    Object.keys(api.loading).forEach(function (id) {
      if (id.indexOf("compare-") === 0) { delete api.loading[id]; }
    });
    other.map.remove();
    other.left.remove();
    $("compare-map").remove();
    other = null;
    api.compare = null;
    $("map-area").classList.remove("split");
    map.invalidateSize({animate: false});
  }

  map.on("move", function () { if (other) { follow(map, other.map); } });
  $("compare-on").addEventListener("change", function () {
    $("compare-field").hidden = !$("compare-on").checked;
    if ($("compare-on").checked) {
      var years = config.years.filter(function (y) { return y !== state.year; });
      if (Number($("compare-year").value) === state.year && years.length) {
        $("compare-year").value = String(years[years.length - 1]);
      }
      openSplit();
    } else {
      closeSplit();
    }
  });
  $("compare-year").addEventListener("change", function () {
    if (!other) { return; }
    other.year = Number($("compare-year").value);
    other.key = drawnKey();
    drawOther();
  });
  // What the right half draws; redrawn only when that changes (not on every pan).
  function drawnKey() {
    var indicator = api.indicatorLayer();
    return JSON.stringify([indicator && indicator.id, indicator && api.params(indicator),
                           state.visible.sea, state.visible.countries, state.visible.provinces,
                           other.year]);
  }

  api.on(function () {
    if (!other) { return; }
    other.left.textContent = String(state.year);
    var key = drawnKey();
    if (key !== other.key) { other.key = key; drawOther(); }
  });
})();

/* The map page's behaviour (geoservice/templates/map/page.html).
 *
 * Folium has already created the Leaflet map (its name is config.map). This script adds our
 * layers — vector tiles drawn with Leaflet.VectorGrid and styled from each layer's legend
 * JSON, points clustered with Leaflet.markercluster and fetched per view from the features
 * API — and the panel: layer control, year, indicator and group, incident period, legends,
 * search, the selected unit with its figures, drill-down with a breadcrumb, and the border
 * view. Everything it asks for comes from this service.
 *
 * For tests and for whoever checks a deployment: window.geoMap exposes the map, its state,
 * `ready` (set once the first view is drawn, with `readyAt` in ms since navigation; also
 * window.mapReady and window.mapPainted), `idle()` (nothing loading) and `errors`.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("map-config").textContent);
  var T = JSON.parse(document.getElementById("map-text").textContent);
  var map = window[config.map];
  var DRILL_ZOOM = 9;            // from this zoom on, a click picks a commune
  var PANES_BASE = 210;          // layer panes sit above the tile pane, below markers
  var OUTLINE_ORDER = 190;       // province outlines: above indicators and communes
  var LEVEL_ZOOM = config.level_zoom;  // "auto" level: provinces below it, communes from it
  var fmt = window.geoMapFormat(config, T);
  map.setMinZoom(config.min_zoom);  // folium's min_zoom is its tile layer's, not the map's
  var api = window.geoMap = {
    map: map, config: config, ready: false, readyAt: null, errors: [],
    pending: 0, loading: {}, computing: {}, idle: function () {
      return api.ready && !api.moving && api.pending === 0 &&
        Object.keys(api.loading).length === 0;
    }
  };
  var state = api.state = {
    year: config.year, indicator: config.indicator, group: "residential", modelType: "any",
    periodFrom: null, periodTo: null, periodTouched: false, border: "", level: "auto",
    province: null, commune: null, visible: {}
  };
  api.format = fmt;
  // The tile URL of each layer on the map (for tests and for whoever checks a deployment).
  // How many records a point layer's markers stand for (clusters count their members).
  api.pointTotal = function (id) {
    var group = drawn[id], total = 0;
    if (!group || !group.eachLayer) { return null; }
    group.eachLayer(function (marker) { total += marker.geoCount || 1; });
    return total;
  };
  // The legend URL a layer is drawn with now (its legend asked there, or given in the page).
  api.legendUrl = function (id) { return layers[id] ? legendUrl(layers[id]) : null; };
  api.tileUrls = function () {
    var out = {};
    Object.keys(drawn).forEach(function (id) { out[id] = drawn[id]._url || null; });
    return out;
  };
  var layers = {};               // id -> layer description (config.layers, density)
  var drawn = {};                // id -> Leaflet layer on the map
  var legends = {};              // legend URL -> legend JSON (or a promise of it)
  var notes = {};                // id -> a note under the layer's legend
  var highlight = null;
  var request = 0;               // identifies the latest click / search selection
  var layersAdded = false;       // the first view's layers are on the map
  var countryName = document.querySelector("#breadcrumb a").textContent;

  // Other scripts of the page (the table, exports, the year comparison) follow the state.
  var listeners = [];
  api.on = function (handler) { listeners.push(handler); };
  api.emit = function (what) { listeners.forEach(function (h) { h(what); }); };

  window.addEventListener("error", function (event) { api.errors.push(String(event.message)); });
  window.addEventListener("unhandledrejection", function (event) {
    api.errors.push(String(event.reason));
  });

  // --- small helpers ------------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { node.textContent = value; } else { node.setAttribute(name, value); }
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }

  var fill = fmt.fill, percent = fmt.percent, number = fmt.number;

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (name) {
      var value = params[name];
      if (value !== null && value !== undefined && value !== "") {
        parts.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
      }
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  // GET JSON; with `computing`, an answer 503 (an analysis being computed) resolves to
  // {computing: true, retryAfter: seconds} instead of failing.
  function getJSON(url, computing) {
    api.pending += 1;
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (computing && response.status === 503) {
          var wait = Number(response.headers.get("Retry-After"));
          return {computing: true, retryAfter: isFinite(wait) && wait > 0 ? wait : 5};
        }
        if (!response.ok) { throw new Error(response.status + " " + url); }
        return response.json();
      })
      .catch(function (error) {
        api.errors.push(String(error.message || error));
        status(T.request_failed);
        throw error;
      })
      .finally(function () { api.pending -= 1; });
  }

  function status(text) { $("search-status").textContent = text || ""; }

  function capital(text) { return text.charAt(0).toLocaleUpperCase() + text.slice(1); }

  function isRate(name) { return /^(certification_rate|model_coverage)_/.test(name); }

  function bboxParam(bounds) {
    var clamp = function (v, lo, hi) { return Math.min(hi, Math.max(lo, v)); };
    return [clamp(bounds.getWest(), -180, 180), clamp(bounds.getSouth(), -90, 90),
            clamp(bounds.getEast(), -180, 180), clamp(bounds.getNorth(), -90, 90)]
      .map(function (v) { return v.toFixed(5); }).join(",");
  }

  function boundsOf(bbox) { return L.latLngBounds([bbox[1], bbox[0]], [bbox[3], bbox[2]]); }

  // --- layers: URLs, legends, styles --------------------------------------------------------

  // The parameters the reader chooses for a layer (a province roll-up: its commune layer's).
  function choosable(layer) {
    var own = layer && (layer.base && layers[layer.base] ? layers[layer.base] : layer);
    return own ? own.choosable || [] : [];
  }

  function params(layer) {
    var out = {};
    if (layer.kind === "indicator") {
      if (state.year) { out.year = state.year; }
      var free = choosable(layer);
      if ("group" in layer.params) {
        out.group = free.indexOf("group") >= 0 ? state.group : layer.params.group;
      }
      if ("model_type" in layer.params) {
        out.model_type = free.indexOf("model_type") >= 0 ? state.modelType
          : layer.params.model_type;
      }
    }
    return out;
  }

  // --- level by zoom: provinces coloured by their rolled-up figure, communes nearer --------

  function provinceVariant(id) {
    var variant = id ? layers[id + "-province"] : null;
    return variant && variant.base === id ? variant : null;
  }

  function drawnLevel() {
    if (!provinceVariant(state.indicator) || state.level === "commune") { return "commune"; }
    if (state.level === "province") { return "province"; }
    return map.getZoom() < LEVEL_ZOOM ? "province" : "commune";
  }

  function tileUrl(layer) {
    return (layer.tiles || config.urls.tiles) + "/" + layer.id + "/{z}/{x}/{y}.mvt" +
      query(params(layer));
  }

  function legendUrl(layer) {
    if (layer.kind === "raster") {
      return layer.legend ? layer.legend + query({lang: config.lang}) : null;
    }
    var values = params(layer);
    values.lang = config.lang;
    return config.urls.tiles + "/" + layer.id + "/legend.json" + query(values);
  }

  function legendOf(layer) {
    var url = legendUrl(layer), asked = params(layer);  // the state may change meanwhile
    if (!url) { return Promise.resolve(null); }
    if (!legends[url]) {
      // The legends of the first view come in the page (config.legends, by their URL).
      var given = config.legends && config.legends[url];
      if (given) { delete config.legends[url]; }
      // An analysis layer's result may still be computed: its features answer 503 then.
      var ready = layer.analysis && !given ? getJSON(
        config.urls.collections + "/" + layer.id + "/items" +
          query(L.extend({limit: 1}, params(layer))), true) : Promise.resolve({});
      legends[url] = ready.then(function (probe) {
        return probe.computing ? probe : given || getJSON(url, true);
      }).then(function (legend) {
        if (legend.computing) { return computing(layer, url, legend.retryAfter); }
        legends[url] = legend;  // resolved: renderLegend reads it directly
        delete notes[layer.id];
        countClasses(layer, legend, url, asked);
        return legend;
      }).catch(function () { delete legends[url]; return null; });
    }
    return Promise.resolve(legends[url]);
  }

  // An analysis layer answers 503 while its result is computed: say so on its legend and
  // ask again after Retry-After.
  function computing(layer, url, seconds) {
    delete legends[url];
    notes[layer.id] = T.computing;
    api.computing[layer.id] = seconds;
    setTimeout(function () {
      delete api.computing[layer.id];
      if (wanted(layer) && !drawn[layer.id]) { sync(); }
    }, seconds * 1000);
    renderLegend();
    return null;
  }

  // --- class counts ("12 xã", "3 tỉnh"): from the features the legend applies to ----------

  var counts = {};               // legend URL -> [count per legend entry] (or a promise)

  // `url` is the legend's, `values` the layer parameters it was asked with.
  function countClasses(layer, legend, url, values) {
    if (layer.kind !== "indicator" || !legend.entries || counts[url]) { return; }
    values = L.extend({}, values);
    values.limit = config.items_limit;
    values.properties = legend.property;   // the one figure the classes are counted on
    var tally = legend.entries.map(function () { return 0; });
    counts[url] = {pending: true};
    function page(next) {
      return getJSON(next).then(function (body) {
        body.features.forEach(function (f) {
          var index = entryIndex(legend, f.properties[legend.property]);
          if (index >= 0) { tally[index] += 1; }
        });
        var more = (body.links || []).filter(function (l) { return l.rel === "next"; })[0];
        return more ? page(more.href) : tally;
      });
    }
    page(config.urls.collections + "/" + layer.id + "/items" + query(values))
      .then(function (result) { counts[url] = result; renderLegend(); })
      .catch(function () { delete counts[url]; });
  }

  // An analysis still being computed may answer its legend without entries: ask again.
  function retryLegends() {
    Object.keys(drawn).forEach(function (id) {
      var url = legendUrl(layers[id]), legend = legends[url];
      if (url && legend && typeof legend.then !== "function" && !legend.entries) {
        delete legends[url];
        legendOf(layers[id]).then(renderLegend);
      }
    });
  }

  function entryIndex(legend, value) {
    var entries = legend.entries, missing = value === null || value === undefined || value === "";
    for (var i = 0; i < entries.length; i++) {
      var e = entries[i];
      if (e.role === "single") { return i; }
      if (missing) { continue; }
      if (e.role === "class" && (e.min === null || value >= e.min) &&
          (e.max === null || value < e.max)) { return i; }
      if (e.role === "category" && String(e.value) === String(value)) { return i; }
    }
    var role = missing ? "no_data" : "other";
    for (var j = 0; j < entries.length; j++) { if (entries[j].role === role) { return j; } }
    return -1;
  }

  function pathStyle(entry, geometry) {
    var style = {opacity: 1, fillOpacity: 1, radius: entry.radius || 4};
    if (geometry === "line") {
      style.fill = false;
      style.stroke = true;
      style.color = entry.stroke || entry.color;
      style.weight = entry.stroke_width;
    } else {
      style.fill = Boolean(entry.fill);
      style.fillColor = entry.fill || entry.color;
      style.stroke = Boolean(entry.stroke);
      style.color = entry.stroke || entry.color;
      style.weight = entry.stroke ? entry.stroke_width : 0;
    }
    if (entry.dash) { style.dashArray = entry.dash.join(" "); }
    return style;
  }

  function styler(layer, legend) {
    var styles = legend.entries.map(function (e) { return pathStyle(e, legend.geometry); });
    return function (properties) {
      if (layer.id === "cooperation-lines" && state.border &&
          properties.partner_country !== state.border) { return []; }
      var index = entryIndex(legend, legend.property ? properties[legend.property] : null);
      return index < 0 ? [] : styles[index];
    };
  }

  function pane(layer) {
    var name = "layer-" + layer.id + "-" + layer.order;
    if (!map.getPane(name)) {
      map.createPane(name).style.zIndex = String(PANES_BASE + Math.min(layer.order, 340));
    }
    return name;
  }

  function watchLoading(id, gridLayer) {
    gridLayer.on("loading", function () { api.loading[id] = true; });
    gridLayer.on("load", function () { delete api.loading[id]; checkReady(); });
    gridLayer.on("remove", function () { delete api.loading[id]; });
    return gridLayer;
  }

  function makeLayer(layer, legend) {
    if (layer.kind === "points") {
      var group = config.urls.clusters ? L.layerGroup([], {pane: pane(layer)})
        : L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 45,
                                chunkedLoading: true, clusterPane: pane(layer)});
      group.geoLegend = legend;
      return group;
    }
    if (layer.kind === "raster") {
      return watchLoading(layer.id, L.tileLayer(layer.tiles, {
        pane: pane(layer), opacity: 0.75, maxZoom: 16, maxNativeZoom: 14}));
    }
    return vectorGrid(layer, styleOf(layer, legend), {id: layer.id, order: drawOrder(layer)});
  }

  // The style function of a vector layer's features.
  function styleOf(layer, legend) {
    var style = styler(layer, legend);
    if (layer.id !== "provinces") { return style; }
    // With an indicator, province outlines are drawn above it (not filled); with none,
    // provinces are the land at their own order, beneath every other layer.
    var bare = !state.indicator;
    return function (properties) {
      var drawn = style(properties);
      return bare || Array.isArray(drawn) ? drawn : L.extend({}, drawn, {fill: false});
    };
  }

  function drawOrder(layer) {
    return layer.id === "provinces" && state.indicator ? OUTLINE_ORDER : layer.order;
  }

  function vectorGrid(layer, style, drawAs) {
    var styles = {};
    styles[layer.id] = style;
    return watchLoading(drawAs.id, L.vectorGrid.protobuf(tileUrl(layer), {
      rendererFactory: L.canvas.tile, vectorTileLayerStyles: styles, interactive: false,
      pane: pane(drawAs), minZoom: layer.minzoom, maxNativeZoom: layer.maxzoom, maxZoom: 16,
      keepBuffer: 1}));
  }

  // --- stacks: adjacent vector layers drawn from one composite tile --------------------------
  // Vector layers next to each other in drawing order (no point, raster or analysis layer
  // between them) come as one composite tile (/tiles/a,b,c/{z}/{x}/{y}.mvt, each layer its
  // own MVT layer, each its own tile in the service's cache) drawn into one canvas: the
  // national view asks one tile per place instead of one per layer. A layer whose tiles
  // end below the current zoom is drawn alone, enlarged from its last zoom as before.

  var stacks = {};               // key -> Leaflet layer of a stack on the map
  var serial = 0;                // each stacked layer's drawing: a changed style redraws

  function stackable(layer) {
    return layer.kind !== "points" && layer.kind !== "raster" && !layer.analysis;
  }

  function stackParts() {
    var zoom = map.getZoom(), runs = [], run = null;
    Object.keys(drawn).map(function (id) { return layers[id]; })
      .sort(function (a, b) { return drawOrder(a) - drawOrder(b); })
      .forEach(function (layer) {
        var entry = drawn[layer.id];
        if (!entry.stacked || layer.maxzoom < zoom) {
          if (entry.stacked) { runs.push([layer]); }
          run = null;
          return;
        }
        if (!run) { run = []; runs.push(run); }
        run.push(layer);
      });
    return runs;
  }

  // The parts' versions combined by exclusive or, 16 hexadecimal digits
  // (geoservice.api.tile_urls.composite_version); null when a part has plain URLs.
  function compositeVersion(parts) {
    var high = 0, low = 0;
    for (var i = 0; i < parts.length; i++) {
      var found = /\/tiles\/v\/([0-9a-f]{16})$/.exec(parts[i].tiles || "");
      if (!found) { return null; }
      high = (high ^ parseInt(found[1].slice(0, 8), 16)) >>> 0;
      low = (low ^ parseInt(found[1].slice(8), 16)) >>> 0;
    }
    var hex = function (v) { return ("0000000" + v.toString(16)).slice(-8); };
    return hex(high) + hex(low);
  }

  function stackUrl(parts) {
    if (parts.length === 1) { return tileUrl(parts[0]); }
    var values = {};
    parts.forEach(function (layer) { L.extend(values, params(layer)); });
    var version = compositeVersion(parts);
    return (version ? config.urls.tiles + "/v/" + version : config.urls.tiles) + "/" +
      parts.map(function (layer) { return layer.id; }).join(",") + "/{z}/{x}/{y}.mvt" +
      query(values);
  }

  // Put on the map the stacks the drawn layers make now; keep those already there.
  function restack() {
    var wantedStacks = {};
    stackParts().forEach(function (parts) {
      var url = stackUrl(parts);
      var key = url + "|" + parts.map(function (l) { return drawn[l.id].serial; }).join(",");
      wantedStacks[key] = {parts: parts, url: url};
    });
    Object.keys(stacks).forEach(function (key) {
      if (!wantedStacks[key]) { map.removeLayer(stacks[key]); delete stacks[key]; }
    });
    Object.keys(wantedStacks).forEach(function (key) {
      var found = wantedStacks[key], parts = found.parts;
      parts.forEach(function (layer) { drawn[layer.id]._url = found.url; });
      if (stacks[key]) { return; }
      var styles = {};
      parts.forEach(function (layer) { styles[layer.id] = drawn[layer.id].style; });
      var first = parts[0];
      stacks[key] = watchLoading("stack:" + key, L.vectorGrid.protobuf(found.url, {
        rendererFactory: L.canvas.tile, vectorTileLayerStyles: styles, interactive: false,
        pane: pane({id: "stack-" + first.id, order: drawOrder(first)}),
        minZoom: Math.min.apply(null, parts.map(function (l) { return l.minzoom; })),
        maxNativeZoom: Math.min.apply(null, parts.map(function (l) { return l.maxzoom; })),
        maxZoom: 16, keepBuffer: 1})).addTo(map);
    });
  }

  function wanted(layer) {
    if (layer.kind === "indicator") {
      var level = drawnLevel();
      return layer.base ? layer.base === state.indicator && level === "province"
        : layer.id === state.indicator && level === "commune";
    }
    return Boolean(state.visible[layer.id]);
  }

  // Bring the map in line with the state: add, replace or remove each layer.
  function sync(changed) {
    api.pending += 1;  // until every wanted layer is on the map (and loading)
    var work = Object.keys(layers).map(function (id) {
      var layer = layers[id];
      var stale = changed && changed.indexOf(id) >= 0;
      if (drawn[id] && (!wanted(layer) || stale)) {
        if (!drawn[id].stacked) { map.removeLayer(drawn[id]); }
        delete drawn[id];
      }
      if (!wanted(layer) || drawn[id]) { return Promise.resolve(); }
      return legendOf(layer).then(function (legend) {
        if (!wanted(layer) || drawn[id]) { return; }
        if (!legend && layer.kind !== "raster") { return; }
        if (stackable(layer)) {  // drawn by its stack (restack)
          serial += 1;
          drawn[id] = {stacked: true, serial: serial, style: styleOf(layer, legend),
                       _url: null};
          return;
        }
        drawn[id] = makeLayer(layer, legend).addTo(map);
        if (layer.kind === "points") { refreshPoints(layer); }
      });
    });
    return Promise.all(work).then(restack).then(renderLegend)
      .finally(function () { api.pending -= 1; });
  }

  function checkReady() {
    if (api.ready || !layersAdded || api.pending > 0 ||
        Object.keys(api.loading).length > 0) { return; }
    api.ready = true;
    api.readyAt = Math.round(performance.now());
    window.mapReady = window.mapPainted = true;  // the names the viewer and bench/ watch
  }

  // --- points from the features API -------------------------------------------------------

  function refreshPoints(layer) {
    var group = drawn[layer.id];
    if (!group) { return; }
    var token = (group.geoToken || 0) + 1;
    group.geoToken = token;
    if (map.getZoom() < layer.minzoom) {
      group.clearLayers();
      notes[layer.id] = T.zoom_in_to_see;
      renderLegend();
      return;
    }
    if (group.geoPopup) { group.geoStale = true; return; }  // the reader is reading
    var values = pointFilter(layer);
    values.bbox = bboxParam(map.getBounds());
    var url;
    if (config.urls.clusters) {
      values.zoom = map.getZoom();
      url = config.urls.clusters.replace("{id}", encodeURIComponent(layer.collection));
    } else {
      values.limit = config.points_limit;
      url = config.urls.collections + "/" + layer.collection + "/items";
    }
    getJSON(url + query(values)).then(function (body) {
      if (group.geoToken !== token || drawn[layer.id] !== group) { return; }
      group.clearLayers();
      var points = body.features.filter(function (f) {
        return f.geometry && f.geometry.type === "Point";
      });
      if (config.urls.clusters) {
        points.forEach(function (f) { group.addLayer(clusterMarker(layer, group.geoLegend, f)); });
        notes[layer.id] = body.numberMatched === 0 ? T.none_here
          : fill(layer.id === "incidents" ? T.incidents_total : T.features_total,
                 {count: number(body.numberMatched)});
      } else {
        group.addLayers(points.map(function (f) { return pointMarker(layer, group.geoLegend, f); }));
        notes[layer.id] = body.numberMatched > body.numberReturned
          ? fill(T.showing, {shown: body.numberReturned, total: body.numberMatched})
          : body.numberMatched === 0 ? T.none_here : "";
      }
      renderLegend();
    }).catch(function () { /* recorded in api.errors */ });
  }

  // The filters of a point layer's request (the same for its items and its clusters).
  function pointFilter(layer) {
    var values = {};
    if (layer.id === "incidents" && (state.periodFrom || state.periodTo)) {
      values.datetime = (state.periodFrom || "..") + "/" + (state.periodTo || "..");
    }
    if (layer.collection === "cooperation" && state.border) {
      values.border_neighbor = state.border;
    }
    return values;
  }

  // A cluster of the service (count > 1: a numbered circle zooming in) or one record.
  function clusterMarker(layer, legend, feature) {
    var count = feature.properties.count;
    if (count === 1) { return pointMarker(layer, legend, feature); }
    var c = feature.geometry.coordinates, size = count < 10 ? 30 : count < 100 ? 36 : 44;
    var marker = L.marker([c[1], c[0]], {pane: pane(layer), keyboard: true,
      title: fill(T.cluster_title, {count: number(count)}),
      icon: L.divIcon({className: "cluster", iconSize: [size, size],
                       html: "<span>" + number(count) + "</span>"})});
    marker.geoCount = count;
    marker.on("click", function () {
      map.setView([c[1], c[0]], Math.min(map.getZoom() + 2, map.getMaxZoom()));
    });
    return marker;
  }

  function pointMarker(layer, legend, feature) {
    var c = feature.geometry.coordinates;
    var index = legend ? entryIndex(legend, feature.properties[legend.property]) : -1;
    var entry = index >= 0 ? legend.entries[index] : {color: "#555", stroke: "#fff",
                                                      stroke_width: 1, radius: 5};
    var marker = L.circleMarker([c[1], c[0]], {
      radius: Math.max(entry.radius || 5, 5), fillColor: entry.fill || entry.color,
      fillOpacity: 1, color: entry.stroke || "#ffffff", weight: entry.stroke_width || 1,
      pane: config.urls.clusters ? pane(layer) : "overlayPane"});
    marker.bindPopup(function () { return pointPopup(layer, legend, feature); });
    marker.on("popupopen", function () { watchPopup(layer, true); });
    marker.on("popupclose", function () { watchPopup(layer, false); });
    return marker;
  }

  // While a point's popup is open its layer is not reloaded (a reload would close it).
  function watchPopup(layer, open) {
    var group = drawn[layer.id];
    if (!group) { return; }
    group.geoPopup = open;
    if (!open && group.geoStale) { group.geoStale = false; refreshPoints(layer); }
  }

  function pointPopup(layer, legend, feature) {
    var list = el("dl");
    layer.popup.forEach(function (name) {
      list.appendChild(el("dt", {text: T.fields[name] || name}));
      list.appendChild(el("dd", {text: fmt.value(layer.id, name, feature.properties[name])}));
    });
    return el("div", {"class": "popup"}, [el("h3", {text: layer.title}), list]);
  }

  // --- legend -------------------------------------------------------------------------------

  function renderLegend() {
    var box = $("legend");
    var shown = Object.keys(layers).map(function (id) { return layers[id]; })
      .filter(wanted).sort(function (a, b) { return b.order - a.order; });
    var parts = shown.map(function (layer) {
      var legend = legends[legendUrl(layer)];
      if (api.computing[layer.id] !== undefined) {
        return el("div", {"class": "legend-layer", "data-layer": layer.id}, [
          el("h3", {text: layer.title}),
          el("p", {"class": "legend-note computing", role: "status", text: T.computing})]);
      }
      if (!legend || typeof legend.then === "function") { return null; }
      return legendBlock(layer, legend);
    }).filter(Boolean);
    box.replaceChildren.apply(box, parts.length ? parts
                              : [el("p", {"class": "hint", text: T.legend_empty})]);
  }

  function swatchOf(entry, geometry) {
    var swatch = el("span", {"class": "swatch " + (geometry || ""), "aria-hidden": "true"});
    if (geometry === "line") {
      swatch.style.borderTopColor = entry.stroke || entry.color;
      swatch.style.borderTopWidth = Math.max(2, entry.stroke_width || 2) + "px";
      if (entry.dash) { swatch.style.borderTopStyle = "dashed"; }
    } else {
      swatch.style.background = entry.fill || "transparent";
      if (entry.stroke) { swatch.style.borderColor = entry.stroke; }
      if (!entry.fill) { swatch.style.borderWidth = "2px"; }
    }
    return swatch;
  }

  // "12 xã" / "3 tỉnh" beside a class of an indicator's legend, once counted.
  function classCount(layer, index) {
    var tally = counts[legendUrl(layer)];
    if (!Array.isArray(tally)) { return null; }
    return el("span", {"class": "count", "data-count": String(tally[index]),
                       text: fill(layer.base ? T.count_provinces : T.count_communes,
                                  {count: number(tally[index])})});
  }

  function legendBlock(layer, legend) {
    var title = legend.layer_title || legend.title || layer.title;
    if (layer.kind === "indicator" && state.year) { title += " (" + state.year + ")"; }
    var entries = legend.entries || [];
    var note = notes[layer.id] || (map.getZoom() < layer.minzoom ? T.zoom_in_to_see : "");
    var parts;
    if (legend.kind === "single" && entries.length === 1) {  // one symbol: title and swatch
      parts = [el("h3", {"class": "single"}, [swatchOf(entries[0], legend.geometry), title])];
    } else {
      parts = [el("h3", {text: title}),
        legend.title && legend.title !== title ? el("p", {"class": "legend-note",
                                                          text: legend.title}) : null,
        el("ul", {}, entries.map(function (entry, index) {
          return el("li", {}, [swatchOf(entry, legend.geometry), el("span", {text: entry.label}),
                               classCount(layer, index)]);
        }))];
    }
    parts.push(note ? el("p", {"class": "legend-note", text: note}) : null);
    return el("div", {"class": "legend-layer", "data-layer": layer.id}, parts);
  }

  // --- the selected unit: popup, panel, breadcrumb ---------------------------------------

  function featureUrl(level, code, year) {
    return config.urls.collections + "/" + (level === "province" ? "provinces" : "communes") +
      "/items/" + encodeURIComponent(code) + query({year: year});
  }

  function identify(latlng) {
    var level = map.getZoom() >= DRILL_ZOOM || (state.province && state.province.bounds &&
      state.province.bounds.contains(latlng)) ? "commune" : "province";
    var d = 1e-5;
    var bbox = [latlng.lng - d, latlng.lat - d, latlng.lng + d, latlng.lat + d]
      .map(function (v) { return v.toFixed(6); }).join(",");
    var mine = ++request;
    var collection = level === "province" ? "provinces" : "communes";
    getJSON(config.urls.collections + "/" + collection + "/items" +
            query({bbox: bbox, limit: 1, year: state.year}))
      .then(function (body) {
        if (mine !== request || !body.features.length) { return; }
        select(level, body.features[0], {at: latlng});
      }).catch(function () { /* recorded */ });
  }

  function select(level, feature, options) {
    options = options || {};
    pendingUnit = "";
    var props = feature.properties;
    var shape = L.geoJSON(feature.geometry);
    var bounds = shape.getBounds();
    if (level === "province") {
      state.province = {code: feature.id, name: props.full_name || props.name, bounds: bounds};
      state.commune = null;
    } else {
      if (!state.province || state.province.code !== props.province_code) {
        state.province = {code: props.province_code, name: props.province_name, bounds: null};
      }
      state.commune = {code: feature.id, name: props.full_name || props.name};
    }
    showHighlight(feature);
    renderBreadcrumb();
    if (!options.restore) { writeHash(true); }
    if (!options.restore && (level === "province" || options.fit)) {
      map.fitBounds(bounds, {padding: [20, 20], maxZoom: level === "province" ? 10 : 11});
    }
    $("map-hint").hidden = true;
    showUnit(level, feature, options);
  }

  function showHighlight(feature) {
    if (highlight) { map.removeLayer(highlight); }
    if (!map.getPane("highlight")) { map.createPane("highlight").style.zIndex = "560"; }
    highlight = L.geoJSON(feature.geometry, {pane: "highlight", interactive: false,
      style: {color: "#111", weight: 3, fill: false, opacity: 0.9}}).addTo(map);
  }

  function indicatorRows(props, previous, tallies) {
    var rows = [];
    config.groups.forEach(function (group) {
      rows.push({name: "certification_rate_" + group.value, label: capital(group.label),
                 group: group.value});
    });
    T.indicators.forEach(function (pair) {
      if (pair[0] in props) { rows.push({name: pair[0], label: pair[1]}); }
    });
    return rows.map(function (row) {
      var value = props[row.name];
      var before = previous ? previous[row.name] : undefined;
      var tally = tallies && row.group ? tallies[row.group] : null;
      return el("tr", {"data-indicator": row.name}, [
        el("th", {scope: "row", text: row.label}),
        el("td", {"class": "number"}, [isRate(row.name) ? percent(value) : number(value),
                                        tally ? countsOf(tally) : null]),
        el("td", {"class": "trend"}, [trend(row.name, value, before)])]);
    });
  }

  // "12/15 được đánh giá · 16 đăng ký": the counts behind a rate.
  function countsOf(tally) {
    var text = fill(T.counts, {certified: number(tally.certified),
                               reviewed: number(tally.reviewed)});
    if (tally.registered !== null) {
      text += " · " + fill(T.registered, {count: number(tally.registered)});
    }
    return el("span", {"class": "counts", text: text});
  }

  // Certified, reviewed and registered per group of a unit in a year, summed from its
  // certification records (the combined group sums its members).
  function certificationCounts(level, code, year) {
    var values = {year: year, limit: config.items_limit,
                  properties: "group,registered,reviewed,certified"};
    values[level === "province" ? "province_code" : "commune_code"] = code;
    var tallies = {};
    config.groups.forEach(function (g) {
      tallies[g.value] = {certified: 0, reviewed: 0, registered: null, rows: 0};
    });
    function add(group, p) {
      var t = tallies[group];
      if (!t) { return; }
      t.rows += 1;
      t.certified += p.certified || 0;
      t.reviewed += p.reviewed || 0;
      if (p.registered !== null && p.registered !== undefined) {
        t.registered = (t.registered || 0) + p.registered;
      }
    }
    function page(url) {
      return getJSON(url).then(function (body) {
        body.features.forEach(function (f) {
          add(f.properties.group, f.properties);
          if (config.combined_members.indexOf(f.properties.group) >= 0) {
            add(config.combined_group, f.properties);
          }
        });
        var next = (body.links || []).filter(function (l) { return l.rel === "next"; })[0];
        return next ? page(next.href) : tallies;
      });
    }
    return page(config.urls.collections + "/certification/items" + query(values))
      .then(function (result) {
        Object.keys(result).forEach(function (g) { if (!result[g].rows) { delete result[g]; } });
        return result;
      });
  }

  function trend(name, value, before) {
    if (value === null || value === undefined || before === null || before === undefined) {
      return el("span", {text: "–"});
    }
    var delta = value - before;
    if (Math.abs(isRate(name) ? delta * 100 : delta) < 0.05) {
      return el("span", {text: "=", title: T.same});
    }
    var text = isRate(name) ? fmt.points(delta) : (delta > 0 ? "+" : "−") + number(Math.abs(delta));
    var words = fill(delta > 0 ? T.up : T.down, {value: text.slice(1)});
    return el("span", {"class": delta > 0 ? "trend-up" : "trend-down", title: words}, [
      el("span", {text: text}), el("span", {"class": "visually-hidden", text: " " + words})]);
  }

  function reportLinks(level, props, code) {
    var year = props.indicator_year || state.year;
    var items = [];
    if (level === "commune") {
      items.push([config.urls.reports + "/commune/" + code + ".pdf" +
                  query({year: year, lang: config.lang}), T.report_commune]);
    }
    var province = level === "province" ? code : props.province_code;
    if (province) {
      items.push([config.urls.reports + "/province/" + province + ".pdf" +
                  query({year: year, lang: config.lang}), T.report_province]);
    }
    return el("ul", {"class": "links"}, items.map(function (item) {
      return el("li", {}, [el("a", {href: item[0], type: "application/pdf", text: item[1]})]);
    }));
  }

  function showUnit(level, feature, options) {
    var props = feature.properties, code = feature.id;
    var name = props.full_name || props.name;
    var where = level === "commune" ? props.province_name : T.levels.province;
    var year = props.indicator_year;
    var compared = year && config.years.indexOf(year - 1) >= 0 ? year - 1 : null;
    var table = el("table", {"class": "figures"}, [
      el("caption", {text: T.certification}),
      el("thead", {}, [el("tr", {}, [el("th", {scope: "col", text: T.indicator}),
        el("th", {scope: "col", "class": "number", text: String(year || "–")}),
        el("th", {scope: "col", "class": "trend",
                  text: compared ? fill(T.compared, {year: compared}) : ""})])]),
      el("tbody", {}, indicatorRows(props, null))]);
    var body = $("unit-body");
    var note = options.note ? el("p", {"class": "hint", text: options.note}) : null;
    body.replaceChildren.apply(body, [el("p", {"class": "where", text: where}), note, table,
                                      reportLinks(level, props, code)].filter(Boolean));
    $("unit-title").textContent = name;
    $("unit").hidden = false;
    if (level === "commune") { openPopup(feature, options.at); }
    var mine = request;
    var previous = compared ? getJSON(featureUrl(level, code, compared))
      .then(function (f) { return f.properties; }) : Promise.resolve(null);
    var tallies = year ? certificationCounts(level, code, year) : Promise.resolve(null);
    Promise.all([previous, tallies]).then(function (answers) {
      if (mine !== request) { return; }
      table.tBodies[0].replaceChildren.apply(table.tBodies[0],
                                             indicatorRows(props, answers[0], answers[1]));
    }).catch(function () { /* recorded */ });
  }

  function currentIndicatorProperty() {
    var layer = layers[state.indicator];
    if (!layer) { return "certification_rate_" + state.group; }
    var legend = legends[legendUrl(layer)];
    return legend && legend.property ? legend.property : "certification_rate_" + state.group;
  }

  function openPopup(feature, at) {
    var props = feature.properties;
    var property = currentIndicatorProperty();
    var value = props[property];
    var layer = layers[state.indicator];
    var list = el("dl", {}, [
      el("dt", {text: T.fields.province_name}), el("dd", {text: props.province_name || "–"}),
      el("dt", {text: layer ? layer.title : T.indicator}),
      el("dd", {text: isRate(property) ? percent(value) : number(value)}),
      el("dt", {text: T.year}), el("dd", {text: String(props.indicator_year || "–")})]);
    var content = el("div", {"class": "popup"}, [
      el("h3", {text: props.full_name || props.name}), list,
      reportLinks("commune", props, feature.id)]);
    var place = at || L.geoJSON(feature.geometry).getBounds().getCenter();
    L.popup({maxWidth: 280}).setLatLng(place).setContent(content).openOn(map);
  }

  function renderBreadcrumb() {
    var list = $("breadcrumb");
    var items = [{level: "country", text: countryName}];
    if (state.province) { items.push({level: "province", text: state.province.name}); }
    if (state.commune) { items.push({level: "commune", text: state.commune.name}); }
    list.replaceChildren.apply(list, items.map(function (item, index) {
      return el("li", {}, [el("a", {href: "#", "data-level": item.level, text: item.text,
                                    "aria-current": index === items.length - 1 ? "page" : null})]);
    }));
  }

  function clearUnit() {
    request += 1;
    pendingUnit = "";
    map.closePopup();
    state.province = null;
    state.commune = null;
    if (highlight) { map.removeLayer(highlight); highlight = null; }
    $("unit").hidden = true;
    renderBreadcrumb();
  }

  function goTo(level) {
    request += 1;
    map.closePopup();
    if (level === "country") {
      clearUnit();
      writeHash(true);
      fitCountry(true);
    } else if (level === "province" && state.province) {
      var mine = request;
      getJSON(featureUrl("province", state.province.code, state.year)).then(function (f) {
        if (mine === request) { select("province", f); }
      }).catch(function () { /* recorded */ });
    }
  }

  function fitCountry(animate) {
    var b = config.bounds;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {padding: [10, 10], animate: Boolean(animate)});
  }

  // --- search ---------------------------------------------------------------------------------

  var searchTimer = null, searchSeq = 0, results = [], active = -1;

  function describe(match) {
    var parts = [T.levels[match.level] || match.level];
    if (match.province && match.province.name) { parts.push(match.province.name); }
    if (match.district) { parts.splice(1, 0, match.district); }
    if (match.now_in && match.now_in.length) {
      var names = match.now_in.slice(0, 3).map(function (u) {
        return u.full_name + (u.province && u.province.name ? ", " + u.province.name : "");
      }).join("; ");
      var more = (match.successor_count || match.now_in.length) - 3;
      parts.push(fill(T.now_in, {units: names}) +
                 (more > 0 ? " " + fill(T.and_more, {count: more}) : ""));
    }
    if (match.former && match.former.length) {
      parts.push(fill(T.formerly, {units: match.former.map(function (f) {
        return [f.full_name, f.district, f.province && f.province.name]
          .filter(Boolean).join(", ");
      }).join("; ")}));
    }
    return parts.join(" · ");
  }

  function showResults(list) {
    results = list;
    active = -1;
    var box = $("search-results"), input = $("search-input");
    box.replaceChildren.apply(box, list.map(function (match, index) {
      var item = el("li", {id: "search-result-" + index, role: "option",
                           "aria-selected": "false"}, [
        el("span", {text: match.full_name}),
        el("span", {"class": "level", text: describe(match)})]);
      item.addEventListener("mousedown", function (event) { event.preventDefault(); });
      item.addEventListener("click", function () { choose(index); });
      return item;
    }));
    box.hidden = list.length === 0;
    input.setAttribute("aria-expanded", list.length ? "true" : "false");
    input.removeAttribute("aria-activedescendant");
  }

  function runSearch(text, then) {
    var mine = ++searchSeq;
    if (text.trim().length < 2) { showResults([]); status(""); return; }
    getJSON(config.urls.search + query({q: text, limit: 8})).then(function (body) {
      if (mine !== searchSeq) { return; }
      showResults(body.matches);
      status(body.matches.length ? fill(T.results, {count: body.matches.length})
                                 : T.no_results);
      if (then) { then(); }
    }).catch(function () { /* recorded */ });
  }

  function moveActive(step) {
    if (!results.length) { return; }
    active = (active + step + results.length) % results.length;
    Array.prototype.forEach.call($("search-results").children, function (item, index) {
      item.setAttribute("aria-selected", index === active ? "true" : "false");
      if (index === active) { item.scrollIntoView({block: "nearest"}); }
    });
    $("search-input").setAttribute("aria-activedescendant", "search-result-" + active);
  }

  function choose(index) {
    var match = results[index];
    if (!match) { return; }
    showResults([]);
    $("search-input").value = match.full_name;
    var note = null, target = match;
    if (match.level.indexOf("former-") === 0) {
      if (match.now_in && match.now_in.length === 1) {
        target = match.now_in[0];
        note = fill(T.old_name_note, {
          old: [match.full_name, match.district, match.province && match.province.name]
            .filter(Boolean).join(", "),
          new: target.full_name + (target.province ? ", " + target.province.name : "")});
      } else {
        if (match.bbox) { map.fitBounds(boundsOf(match.bbox), {padding: [20, 20]}); }
        status(describe(match));
        return;
      }
    }
    var mine = ++request;
    getJSON(featureUrl(target.level, target.code, state.year)).then(function (feature) {
      if (mine !== request) { return; }
      select(target.level, feature, {fit: true, note: note});
      if (note) { status(note); }
    }).catch(function () { /* recorded */ });
  }

  function wireSearch() {
    var input = $("search-input");
    input.addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { runSearch(input.value); }, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); moveActive(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); moveActive(-1); }
      else if (event.key === "Escape") { showResults([]); }
    });
    $("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(searchTimer);
      if (active >= 0) { choose(active); return; }
      runSearch(input.value, function () { choose(0); });
    });
  }

  // --- border view -----------------------------------------------------------------------------

  function setBorder(country) {
    state.border = country;
    ["CN", "LA", "KH"].forEach(function (code) {
      var id = "border-communes-" + code.toLowerCase();
      if (layers[id]) { setVisible(id, code === country); }
    });
    if (country && layers["cooperation-lines"]) { setVisible("cooperation-lines", true); }
    var restyle = ["cooperation-lines"].filter(function (id) { return drawn[id]; });
    sync(restyle);
    if (drawn.cooperation) { refreshPoints(layers.cooperation); }
    renderBorder();
  }

  function renderBorder() {
    var box = $("border-body"), country = state.border;
    if (!country) { box.replaceChildren(); return; }
    var property = currentIndicatorProperty();
    var indicator = layers[state.indicator];
    box.replaceChildren(el("p", {"class": "hint", text: T.loading}));
    var mine = (renderBorder.seq = (renderBorder.seq || 0) + 1);
    var communes = getJSON(config.urls.collections + "/communes/items" +
                           query({border_neighbor: country, year: state.year, limit: 1000}));
    var activities = config.may_read_cooperation
      ? getJSON(config.urls.collections + "/cooperation/items" +
                query({border_neighbor: country, year: state.year, limit: 10}))
        .catch(function () { return null; })
      : Promise.resolve(null);
    Promise.all([communes, activities]).then(function (answers) {
      if (mine !== renderBorder.seq) { return; }
      var body = answers[0], coop = answers[1];
      var features = body.features.slice().sort(function (a, b) {
        return (a.properties.province_name || "").localeCompare(b.properties.province_name || "",
                                                                config.lang) ||
          (a.properties.name || "").localeCompare(b.properties.name || "", config.lang);
      });
      var rows = features.map(function (f) {
        var p = f.properties, button = el("button", {type: "button", "class": "list-button",
                                                     text: p.full_name || p.name});
        button.addEventListener("click", function () {
          request += 1;
          select("commune", f, {fit: true});
        });
        var length = p.border_length_km ? p.border_length_km[country] : null;
        return el("tr", {}, [el("th", {scope: "row"}, [button]),
          el("td", {text: p.province_name || ""}),
          el("td", {"class": "number", text: number(length)}),
          el("td", {"class": "number",
                    text: isRate(property) ? percent(p[property]) : number(p[property])})]);
      });
      var title = fill(T.border_communes, {country: T.countries[country]});
      var table = el("table", {"class": "figures"}, [
        el("caption", {text: title + " · " + fill(T.border_count, {count: features.length})}),
        el("thead", {}, [el("tr", {}, [el("th", {scope: "col", text: T.fields.name}),
          el("th", {scope: "col", text: T.fields.province_name}),
          el("th", {scope: "col", text: T.border_length}),
          el("th", {scope: "col", text: indicator ? indicator.title : T.indicator})])]),
        el("tbody", {}, rows)]);
      var parts = [el("div", {"class": "border-list"}, [table]), cooperationBlock(coop),
        el("ul", {"class": "links"}, [el("li", {}, [el("a", {
          href: config.urls.reports + "/border/" + country + ".pdf" +
            query({year: state.year, lang: config.lang}),
          type: "application/pdf", text: T.report_border})])])];
      box.replaceChildren.apply(box, parts);
      if (features.length) {
        map.fitBounds(L.geoJSON({type: "FeatureCollection", features: features}).getBounds(),
                      {padding: [20, 20]});
      }
    }).catch(function () { box.replaceChildren(); });
  }

  function cooperationBlock(body) {
    if (!config.may_read_cooperation) {
      return el("p", {"class": "hint", text: T.cooperation_hidden});
    }
    if (!body) { return null; }
    var items = body.features.map(function (f) {
      var p = f.properties;
      return el("li", {text: [fmt.date(p.date),
                              fmt.value("cooperation", "activity_type", p.activity_type),
                              fmt.value("cooperation", "partner_locality", p.partner_locality)]
        .filter(function (t) { return t && t !== "–"; }).join(" · ")});
    });
    return el("div", {}, [
      el("h3", {"class": "legend-note", text: fill(T.cooperation, {year: state.year || ""}) +
                ": " + fill(T.cooperation_count, {count: body.numberMatched})}),
      el("ul", {"class": "links"}, items)]);
  }

  // --- controls ------------------------------------------------------------------------------

  function setVisible(id, on) {
    state.visible[id] = on;
    var box = $("layer-" + id);
    if (box) { box.checked = on; }
  }

  function defaultPeriod() {
    if (state.periodTouched || !state.year) { return; }
    state.periodFrom = state.year + "-01-01";
    state.periodTo = state.year + "-12-31";
    if ($("period-from")) {
      $("period-from").value = state.periodFrom;
      $("period-to").value = state.periodTo;
    }
  }

  function showParamFields() {
    var free = choosable(layers[state.indicator]);
    $("group-field").hidden = free.indexOf("group") < 0;
    $("model-type-field").hidden = free.indexOf("model_type") < 0;
    var level = $("level-field");
    if (level) { level.hidden = !provinceVariant(state.indicator); }
  }

  // The indicator layers drawn for the current indicator (its commune and province layers).
  function indicatorIds() {
    return state.indicator ? [state.indicator, state.indicator + "-province"] : [];
  }

  function refreshSelected() {
    var selected = state.commune ? ["commune", state.commune.code]
      : state.province ? ["province", state.province.code] : null;
    if (!selected) { return; }
    var mine = ++request;
    getJSON(featureUrl(selected[0], selected[1], state.year)).then(function (feature) {
      if (mine !== request) { return; }
      showUnit(selected[0], feature, {});
    }).catch(function () { /* recorded */ });
  }

  function updateLanguageLinks() {
    Array.prototype.forEach.call(document.querySelectorAll("a[data-lang]"), function (link) {
      link.href = query({lang: link.getAttribute("data-lang"), year: state.year}) +
        window.location.hash;
    });
  }

  function setYear(value) {
    state.year = value;
    if ($("year")) { $("year").value = String(value); }
    defaultPeriod();
    sync(indicatorIds());
    if (drawn.incidents) { refreshPoints(layers.incidents); }
    refreshSelected();
    renderBorder();
    api.emit("year");
  }
  api.setYear = function (value) { setYear(value); writeHash(true); };

  function wireControls() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-layer]"), function (box) {
      box.addEventListener("change", function () {
        state.visible[box.getAttribute("data-layer")] = box.checked;
        sync();
        writeHash(true);
      });
    });
    var year = $("year");
    if (year) {
      year.addEventListener("change", function () { api.setYear(Number(year.value)); });
    }
    $("indicator").addEventListener("change", function () {
      var before = Boolean(state.indicator);
      state.indicator = $("indicator").value || null;
      showParamFields();
      sync(before === Boolean(state.indicator) ? [] : ["provinces"]);
      writeHash(true);
    });
    $("group").addEventListener("change", function () {
      state.group = $("group").value;
      sync(indicatorIds());
      writeHash(true);
    });
    $("model-type").addEventListener("change", function () {
      state.modelType = $("model-type").value;
      sync(indicatorIds());
      writeHash(true);
    });
    if ($("level")) {
      $("level").addEventListener("change", function () {
        state.level = $("level").value;
        sync();
        writeHash(true);
      });
    }
    ["period-from", "period-to"].forEach(function (id) {
      if (!$(id)) { return; }
      $(id).addEventListener("change", function () {
        state.periodTouched = true;
        state.periodFrom = $("period-from").value || null;
        state.periodTo = $("period-to").value || null;
        if (drawn.incidents) { refreshPoints(layers.incidents); }
      });
    });
    $("border-country").addEventListener("change", function () {
      setBorder($("border-country").value);
      writeHash(true);
    });
    $("breadcrumb").addEventListener("click", function (event) {
      var link = event.target.closest("a[data-level]");
      if (!link) { return; }
      event.preventDefault();
      goTo(link.getAttribute("data-level"));
    });
    var toggle = $("panel-toggle");
    toggle.addEventListener("click", function () { setPanel(toggle.getAttribute(
      "aria-expanded") !== "true"); });
  }

  // Place and archipelago names (the service's `labels` layer, PNG tiles in the page's
  // language) above every thematic layer.
  function addOverlay() {
    var id = config.overlay;
    if (!id || !layers[id]) { return; }
    if (!map.getPane("labels")) {
      var labelPane = map.createPane("labels");
      labelPane.style.zIndex = "580";
      labelPane.style.pointerEvents = "none";
    }
    // 512-pixel tiles (each the four of the next zoom): a quarter of the requests.
    var overlay = L.tileLayer(config.urls.tiles + "/" + id + "/512/{z}/{x}/{y}.png" +
                              query({lang: config.lang}), {
      pane: "labels", maxZoom: 16, maxNativeZoom: layers[id].maxzoom,
      minZoom: layers[id].minzoom, tileSize: 512, zoomOffset: -1});
    watchLoading(id, overlay).addTo(map);
    api.overlay = overlay;
  }

  // The legend one tap away while the panel is closed (phones, tablets).
  function addLegendButton() {
    var control = L.control({position: "topleft"});
    control.onAdd = function () {
      var button = el("button", {type: "button", id: "legend-toggle", "class": "legend-toggle",
                                 "aria-controls": "legend", text: T.legend});
      L.DomEvent.disableClickPropagation(button);
      button.addEventListener("click", function () {
        setPanel(true);
        $("legend-title").scrollIntoView({block: "start"});
      });
      return button;
    };
    control.addTo(map);
  }

  function setPanel(open) {
    var toggle = $("panel-toggle");
    document.body.classList.toggle("panel-closed", !open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.querySelector(".visually-hidden").textContent = open ? T.hide_panel : T.show_panel;
    map.invalidateSize();
  }

  // --- the whole view in the URL (static/js/map-url.js), for Back/Forward and links --------

  var restoring = false;         // applying a URL: write nothing back meanwhile
  var pendingUnit = "";          // the unit a URL names, until it is opened

  function stateValues() {
    var unit = state.commune ? "commune:" + state.commune.code
      : state.province ? "province:" + state.province.code : pendingUnit;
    return {year: state.year, indicator: state.indicator || "none", group: state.group,
            model: state.modelType, level: state.level, border: state.border, unit: unit,
            layers: Object.keys(state.visible).filter(function (id) {
              return state.visible[id];
            }).sort().join(",")};
  }

  // Record the view: a new history entry (`push`) or the current one (a pan, a zoom).
  function writeHash(push) {
    if (restoring) { return; }
    var c = map.getCenter();
    var hash = window.geoMapUrl.format([map.getZoom(), c.lat, c.lng], stateValues());
    if (hash !== window.location.hash) {
      var url = window.location.pathname + window.location.search + hash;
      if (push) { history.pushState(null, "", url); } else { history.replaceState(null, "", url); }
    }
    updateLanguageLinks();
    api.emit("view");
  }
  api.writeHash = writeHash;

  // Take the values of a URL that name something this page has; ignore the rest.
  function applyValues(values) {
    if (values.year && config.years.indexOf(Number(values.year)) >= 0) {
      state.year = Number(values.year);
    }
    if (values.indicator === "none") { state.indicator = null; }
    else if (values.indicator && layers[values.indicator] &&
             layers[values.indicator].kind === "indicator" && !layers[values.indicator].base) {
      state.indicator = values.indicator;
    }
    if (config.groups.some(function (g) { return g.value === values.group; })) {
      state.group = values.group;
    }
    if (config.model_types.some(function (t) { return t.value === values.model; })) {
      state.modelType = values.model;
    }
    if (["auto", "province", "commune"].indexOf(values.level) >= 0) { state.level = values.level; }
    if (values.layers !== undefined) {
      var on = values.layers.split(",");
      Object.keys(state.visible).forEach(function (id) { setVisible(id, on.indexOf(id) >= 0); });
    }
    if (values.border !== undefined && ["", "CN", "LA", "KH"].indexOf(values.border) >= 0) {
      state.border = values.border;
    }
    if ($("year") && state.year) { $("year").value = String(state.year); }
    $("indicator").value = state.indicator || "";
    $("group").value = state.group;
    $("model-type").value = state.modelType;
    if ($("level")) { $("level").value = state.level; }
    $("border-country").value = state.border;
    defaultPeriod();
    showParamFields();
  }

  function unitOf(text) {
    var m = /^(province|commune):(\w+)$/.exec(text || "");
    return m ? {level: m[1], code: m[2]} : null;
  }

  // Open a unit named by the URL (or the reader's province), fitting the map to it unless
  // the URL gives the view.
  function openUnit(unit, fit) {
    pendingUnit = unit.level + ":" + unit.code;
    var mine = ++request;
    getJSON(featureUrl(unit.level, unit.code, state.year)).then(function (feature) {
      if (mine === request) { select(unit.level, feature, {fit: fit, restore: !fit}); }
    }).catch(function () { /* recorded */ });
  }

  function restore() {
    var parsed = window.geoMapUrl.parse(window.location.hash);
    var before = JSON.stringify(stateValues());
    restoring = true;
    applyValues(parsed.values);
    if (parsed.view) {
      map.setView([parsed.view[1], parsed.view[2]], parsed.view[0], {animate: false});
    }
    restoring = false;
    var now = stateValues();
    if (JSON.stringify(now) !== before) {
      sync(indicatorIds().concat(["provinces"]));
      Object.keys(drawn).forEach(function (id) {
        if (layers[id].kind === "points") { refreshPoints(layers[id]); }
      });
      renderBorder();
      api.emit("year");
    }
    var unit = unitOf(parsed.values.unit);
    var current = state.commune ? "commune:" + state.commune.code
      : state.province ? "province:" + state.province.code : "";
    if (unit && parsed.values.unit !== current) { openUnit(unit, false); }
    else if (!unit && current) { clearUnit(); }
  }

  // --- for the page's other scripts (static/js/map-table.js, map-compare.js) -----------------

  // The indicator layer on the map now (its province roll-up at national zooms), or null.
  api.indicatorLayer = function () {
    var variant = provinceVariant(state.indicator);
    return drawnLevel() === "province" && variant ? variant : layers[state.indicator] || null;
  };
  api.layers = layers;
  api.params = params;
  api.getJSON = getJSON;
  api.query = query;
  api.el = el;
  api.legendOf = legendOf;
  api.entryIndex = entryIndex;
  api.bboxParam = bboxParam;
  api.tileUrl = tileUrl;
  api.wanted = wanted;
  api.styler = styler;

  // --- start ---------------------------------------------------------------------------------

  function start() {
    config.layers.forEach(function (layer) {
      layers[layer.id] = layer;
      if (layer.kind !== "indicator") { state.visible[layer.id] = layer.visible; }
    });
    if (config.density) {
      layers.density = {id: "density", kind: "raster", theme: "hotspots", order: 240,
                        title: config.density.title, tiles: config.density.tiles,
                        legend: config.density.legend, minzoom: 0, maxzoom: 16, params: {}};
      state.visible.density = false;
    }
    L.control.zoom({position: "topright", zoomInTitle: T.zoom_in, zoomOutTitle: T.zoom_out})
      .addTo(map);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(T.attribution);
    map.getContainer().setAttribute("aria-label", T.map_label);
    if (window.matchMedia("(max-width: 900px)").matches) { setPanel(false); }
    addLegendButton();
    if (window.matchMedia("(max-width: 520px)").matches) {
      // A phone: the scale bar goes to the top, where the long attribution cannot reach it.
      var scale = document.querySelector(".leaflet-control-scale");
      var top = map.getContainer().querySelector(".leaflet-top.leaflet-left");
      if (scale && top) { top.appendChild(scale); }
    }
    var parsed = window.geoMapUrl.parse(window.location.hash);
    restoring = true;
    applyValues(parsed.values);
    if (parsed.view) {
      map.setView([parsed.view[1], parsed.view[2]], parsed.view[0], {animate: false});
    } else {
      fitCountry();
    }
    restoring = false;
    var unit = unitOf(parsed.values.unit) ||
      (!parsed.view && config.start ? {level: "province", code: config.start} : null);
    if (unit) { openUnit(unit, !parsed.view); }
    wireControls();
    wireSearch();
    map.on("click", function (event) { identify(event.latlng); });
    var zoomBefore = map.getZoom();
    // Not idle while the map flies: the layers of the zoom it lands on load at the end.
    map.on("movestart zoomstart", function () { api.moving = true; });
    map.on("moveend", function () {
      api.moving = false;
      writeHash(false);
      retryLegends();
      var crossed = (zoomBefore < LEVEL_ZOOM) !== (map.getZoom() < LEVEL_ZOOM);
      zoomBefore = map.getZoom();
      if (crossed && provinceVariant(state.indicator)) { sync(); } else { restack(); }
      Object.keys(drawn).forEach(function (id) {
        if (layers[id].kind === "points") { refreshPoints(layers[id]); }
      });
      renderLegend();
    });
    window.addEventListener("popstate", restore);
    writeHash(false);
    if (state.border) { setBorder(state.border); }
    addOverlay();
    api.emit("start");
    sync().then(function () { layersAdded = true; checkReady(); });
    var poll = setInterval(function () {
      checkReady();
      if (api.ready) { clearInterval(poll); }
    }, 100);
  }

  start();
})();

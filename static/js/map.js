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
  var numberFormat = new Intl.NumberFormat(config.lang === "vi" ? "vi-VN" : "en-GB",
                                           {maximumFractionDigits: 1});
  var api = window.geoMap = {
    map: map, config: config, ready: false, readyAt: null, errors: [],
    pending: 0, loading: {}, idle: function () {
      return api.ready && api.pending === 0 && Object.keys(api.loading).length === 0;
    }
  };
  var state = api.state = {
    year: config.year, indicator: config.indicator, group: "residential", modelType: "any",
    periodFrom: null, periodTo: null, periodTouched: false, border: "",
    province: null, commune: null, visible: {}
  };
  var layers = {};               // id -> layer description (config.layers, density)
  var drawn = {};                // id -> Leaflet layer on the map
  var legends = {};              // legend URL -> legend JSON (or a promise of it)
  var notes = {};                // id -> a note under the layer's legend
  var highlight = null;
  var request = 0;               // identifies the latest click / search selection
  var layersAdded = false;       // the first view's layers are on the map
  var countryName = document.querySelector("#breadcrumb a").textContent;

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

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (all, name) {
      return values[name] !== undefined ? values[name] : all;
    });
  }

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

  function getJSON(url) {
    api.pending += 1;
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
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

  function percent(value) {
    return value === null || value === undefined ? T.no_data
      : numberFormat.format(value * 100) + " %";
  }

  function number(value) {
    return value === null || value === undefined ? T.no_data : numberFormat.format(value);
  }

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

  function params(layer) {
    var out = {};
    if (layer.kind === "indicator") {
      if (state.year) { out.year = state.year; }
      if ("group" in layer.params) { out.group = state.group; }
      if ("model_type" in layer.params) { out.model_type = state.modelType; }
    }
    return out;
  }

  function tileUrl(layer) {
    return config.urls.tiles + "/" + layer.id + "/{z}/{x}/{y}.mvt" + query(params(layer));
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
    var url = legendUrl(layer);
    if (!url) { return Promise.resolve(null); }
    if (!legends[url]) {
      legends[url] = getJSON(url).then(function (legend) {
        legends[url] = legend;  // resolved: renderLegend reads it directly
        return legend;
      }).catch(function () { delete legends[url]; return null; });
    }
    return Promise.resolve(legends[url]);
  }

  // An analysis still being computed answers its legend without entries (202): ask again.
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
    var name = "layer-" + layer.id;
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
      var group = L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 45,
                                        chunkedLoading: true, clusterPane: pane(layer)});
      group.geoLegend = legend;
      return group;
    }
    if (layer.kind === "raster") {
      return watchLoading(layer.id, L.tileLayer(layer.tiles, {
        pane: pane(layer), opacity: 0.75, maxZoom: 16, maxNativeZoom: 14}));
    }
    var style = styler(layer, legend);
    if (layer.id === "provinces") {
      // Provinces are drawn above the indicator: filled only when no indicator colours the
      // communes (the neighbouring-countries layer is the land beneath), outlined always.
      var bare = !state.indicator;
      return vectorGrid(layer, function (properties) {
        var drawn = style(properties);
        return bare || Array.isArray(drawn) ? drawn : L.extend({}, drawn, {fill: false});
      }, {id: layer.id, order: OUTLINE_ORDER});
    }
    return vectorGrid(layer, style, layer);
  }

  function vectorGrid(layer, style, drawAs) {
    var styles = {};
    styles[layer.id] = style;
    return watchLoading(drawAs.id, L.vectorGrid.protobuf(tileUrl(layer), {
      rendererFactory: L.canvas.tile, vectorTileLayerStyles: styles, interactive: false,
      pane: pane(drawAs), minZoom: layer.minzoom, maxNativeZoom: layer.maxzoom, maxZoom: 16,
      keepBuffer: 1}));
  }

  function wanted(layer) {
    if (layer.kind === "indicator") { return layer.id === state.indicator; }
    return Boolean(state.visible[layer.id]);
  }

  // Bring the map in line with the state: add, replace or remove each layer.
  function sync(changed) {
    var work = Object.keys(layers).map(function (id) {
      var layer = layers[id];
      var stale = changed && changed.indexOf(id) >= 0;
      if (drawn[id] && (!wanted(layer) || stale)) {
        map.removeLayer(drawn[id]);
        delete drawn[id];
      }
      if (!wanted(layer) || drawn[id]) { return Promise.resolve(); }
      return legendOf(layer).then(function (legend) {
        if (!wanted(layer) || drawn[id]) { return; }
        if (!legend && layer.kind !== "raster") { return; }
        drawn[id] = makeLayer(layer, legend).addTo(map);
        if (layer.kind === "points") { refreshPoints(layer); }
      });
    });
    return Promise.all(work).then(renderLegend);
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
    var values = {bbox: bboxParam(map.getBounds()), limit: config.points_limit};
    if (layer.id === "incidents" && (state.periodFrom || state.periodTo)) {
      values.datetime = (state.periodFrom || "..") + "/" + (state.periodTo || "..");
    }
    if (layer.collection === "cooperation" && state.border) {
      values.border_neighbor = state.border;
    }
    getJSON(config.urls.collections + "/" + layer.collection + "/items" + query(values))
      .then(function (body) {
        if (group.geoToken !== token || drawn[layer.id] !== group) { return; }
        group.clearLayers();
        var markers = body.features.filter(function (f) {
          return f.geometry && f.geometry.type === "Point";
        }).map(function (f) { return pointMarker(layer, group.geoLegend, f); });
        group.addLayers(markers);
        notes[layer.id] = body.numberMatched > body.numberReturned
          ? fill(T.showing, {shown: body.numberReturned, total: body.numberMatched})
          : body.numberMatched === 0 ? T.none_here : "";
        renderLegend();
      }).catch(function () { /* recorded in api.errors */ });
  }

  function pointMarker(layer, legend, feature) {
    var c = feature.geometry.coordinates;
    var index = legend ? entryIndex(legend, feature.properties[legend.property]) : -1;
    var entry = index >= 0 ? legend.entries[index] : {color: "#555", stroke: "#fff",
                                                      stroke_width: 1, radius: 5};
    var marker = L.circleMarker([c[1], c[0]], {
      radius: Math.max(entry.radius || 5, 5), fillColor: entry.fill || entry.color,
      fillOpacity: 1, color: entry.stroke || "#ffffff", weight: entry.stroke_width || 1});
    marker.bindPopup(function () { return pointPopup(layer, legend, feature); });
    return marker;
  }

  function valueText(name, value, legend) {
    if (legend && legend.property === name) {
      var index = entryIndex(legend, value);
      if (index >= 0 && legend.entries[index].role === "category") {
        return legend.entries[index].label;
      }
    }
    if (value === null || value === undefined || value === "") { return "–"; }
    if (Array.isArray(value)) {
      return value.map(function (v) { return T.countries[v] || v; }).join(", ");
    }
    if (typeof value === "object") {
      return Object.keys(value).map(function (k) {
        return (T.countries[k] || k) + ": " + number(value[k]);
      }).join("; ");
    }
    return typeof value === "number" ? number(value) : String(value);
  }

  function pointPopup(layer, legend, feature) {
    var list = el("dl");
    layer.popup.forEach(function (name) {
      list.appendChild(el("dt", {text: T.fields[name] || name}));
      list.appendChild(el("dd", {text: valueText(name, feature.properties[name], legend)}));
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
        el("ul", {}, entries.map(function (entry) {
          return el("li", {}, [swatchOf(entry, legend.geometry), el("span", {text: entry.label})]);
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
    if (level === "province" || options.fit) {
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

  function indicatorRows(props, previous) {
    var rows = [];
    config.groups.forEach(function (group) {
      rows.push({name: "certification_rate_" + group.value, label: capital(group.label)});
    });
    T.indicators.forEach(function (pair) {
      if (pair[0] in props) { rows.push({name: pair[0], label: pair[1]}); }
    });
    return rows.map(function (row) {
      var value = props[row.name];
      var before = previous ? previous[row.name] : undefined;
      return el("tr", {}, [
        el("th", {scope: "row", text: row.label}),
        el("td", {"class": "number", text: isRate(row.name) ? percent(value) : number(value)}),
        el("td", {"class": "trend"}, [trend(row.name, value, before)])]);
    });
  }

  function trend(name, value, before) {
    if (value === null || value === undefined || before === null || before === undefined) {
      return el("span", {text: "–"});
    }
    var delta = isRate(name) ? (value - before) * 100 : value - before;
    var size = numberFormat.format(Math.abs(delta));
    if (Math.abs(delta) < 0.05) { return el("span", {text: "=", title: T.same}); }
    var words = fill(delta > 0 ? T.up : T.down,
                     {value: isRate(name) ? fill(T.points, {value: size}) : size});
    return el("span", {"class": delta > 0 ? "trend-up" : "trend-down", title: words}, [
      el("span", {"aria-hidden": "true", text: (delta > 0 ? "▲ " : "▼ ") + size}),
      el("span", {"class": "visually-hidden", text: words})]);
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
    if (compared) {
      var mine = request;
      getJSON(featureUrl(level, code, compared)).then(function (previous) {
        if (mine !== request) { return; }
        table.tBodies[0].replaceChildren.apply(table.tBodies[0],
                                               indicatorRows(props, previous.properties));
      }).catch(function () { /* recorded */ });
    }
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

  function goTo(level) {
    request += 1;
    map.closePopup();
    if (level === "country") {
      state.province = null;
      state.commune = null;
      if (highlight) { map.removeLayer(highlight); highlight = null; }
      $("unit").hidden = true;
      renderBreadcrumb();
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
    var legend = layers.cooperation ? legends[legendUrl(layers.cooperation)] : null;
    var items = body.features.map(function (f) {
      var p = f.properties;
      return el("li", {text: [p.date, valueText("activity_type", p.activity_type, legend),
                              p.partner_locality].filter(Boolean).join(" · ")});
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
    var layer = layers[state.indicator];
    $("group-field").hidden = !(layer && "group" in layer.params);
    $("model-type-field").hidden = !(layer && "model_type" in layer.params);
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

  function wireControls() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-layer]"), function (box) {
      box.addEventListener("change", function () {
        state.visible[box.getAttribute("data-layer")] = box.checked;
        sync();
      });
    });
    var year = $("year");
    if (year) {
      year.addEventListener("change", function () {
        state.year = Number(year.value);
        defaultPeriod();
        sync([state.indicator]);
        if (drawn.incidents) { refreshPoints(layers.incidents); }
        refreshSelected();
        renderBorder();
        updateLanguageLinks();
      });
    }
    $("indicator").addEventListener("change", function () {
      var before = Boolean(state.indicator);
      state.indicator = $("indicator").value || null;
      showParamFields();
      sync(before === Boolean(state.indicator) ? [] : ["provinces"]);
    });
    $("group").addEventListener("change", function () {
      state.group = $("group").value;
      sync([state.indicator]);
    });
    $("model-type").addEventListener("change", function () {
      state.modelType = $("model-type").value;
      sync([state.indicator]);
    });
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

  function setPanel(open) {
    var toggle = $("panel-toggle");
    document.body.classList.toggle("panel-closed", !open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.querySelector(".visually-hidden").textContent = open ? T.hide_panel : T.show_panel;
    map.invalidateSize();
  }

  // --- the view in the URL (#zoom/lat/lon), kept across language switches ----------------

  function readHash() {
    var parts = window.location.hash.replace("#", "").split("/").map(Number);
    if (parts.length === 3 && parts.every(function (v) { return isFinite(v); })) {
      map.setView([parts[1], parts[2]], parts[0], {animate: false});
      return true;
    }
    return false;
  }

  function writeHash() {
    var c = map.getCenter();
    history.replaceState(null, "", window.location.pathname + window.location.search + "#" +
                         map.getZoom() + "/" + c.lat.toFixed(4) + "/" + c.lng.toFixed(4));
    updateLanguageLinks();
  }

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
    if (!readHash()) { fitCountry(); }
    defaultPeriod();
    showParamFields();
    wireControls();
    wireSearch();
    map.on("click", function (event) { identify(event.latlng); });
    map.on("moveend", function () {
      writeHash();
      retryLegends();
      Object.keys(drawn).forEach(function (id) {
        if (layers[id].kind === "points") { refreshPoints(layers[id]); }
      });
      renderLegend();
    });
    writeHash();
    sync().then(function () { layersAdded = true; checkReady(); });
    var poll = setInterval(function () {
      checkReady();
      if (api.ready) { clearInterval(poll); }
    }, 100);
  }

  start();
})();

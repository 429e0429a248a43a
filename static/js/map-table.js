/* The map page's data table and downloads (loaded after map.js, through window.geoMap).
 *
 * The table lists the units the indicator colours in the view (or in the selected
 * province), read from the indicator layer's collection of the features API with the
 * layer's parameters; its headers sort it; its CSV and XLSX links are the very same request
 * with f=csv / f=xlsx, so a download holds exactly the rows shown. "Download map" asks the
 * service for the current view as a PNG or PDF (/map/image.png|pdf: title, legend, scale
 * bar, north arrow, date, data source).
 */
(function () {
  "use strict";

  var api = window.geoMap, config = api.config, state = api.state, el = api.el;
  var T = JSON.parse(document.getElementById("map-text").textContent);
  var fmt = api.format, map = api.map;
  var $ = function (id) { return document.getElementById(id); };
  var current = null;            // {layer, property, rows, sort: [column, direction]}

  // --- the table ----------------------------------------------------------------------------

  function tableQuery(layer) {
    var values = api.params(layer);
    values.limit = config.items_limit;
    if (state.province && !layer.base) { values.province_code = state.province.code; }
    else { values.bbox = api.bboxParam(map.getBounds()); }
    return values;
  }

  function itemsUrl(layer, values, format) {
    var all = format ? Object.assign({}, values, {f: format}) : values;
    return config.urls.collections + "/" + layer.id + "/items" + api.query(all);
  }

  function showTable() {
    var layer = api.indicatorLayer(), box = $("data-table");
    if (!layer) { box.replaceChildren(el("p", {"class": "hint", text: T.legend_empty})); return; }
    var values = tableQuery(layer);
    box.replaceChildren(el("p", {"class": "hint", text: T.loading}));
    var mine = (showTable.seq = (showTable.seq || 0) + 1);
    Promise.all([api.legendOf(layer), api.getJSON(itemsUrl(layer, values))])
      .then(function (answers) {
        if (mine !== showTable.seq) { return; }
        var legend = answers[0], body = answers[1];
        current = {layer: layer, property: legend && legend.property, values: values,
                   rows: body.features.map(function (f) { return f.properties; }),
                   sort: ["full_name", 1]};
        render();
      }).catch(function () { box.replaceChildren(); });
  }

  function columns() {
    var names = ["full_name"];
    if (current.rows.some(function (r) { return r.province_name; })) {
      names.push("province_name");
    }
    if (current.property) { names.push(current.property); }
    return names;
  }

  function heading(name) {
    return name === current.property ? current.layer.title : T.fields[name] || name;
  }

  function compare(name, direction) {
    return function (a, b) {
      var x = a[name], y = b[name];
      if (x === null || x === undefined) { return 1; }
      if (y === null || y === undefined) { return -1; }
      var order = typeof x === "number" ? x - y : String(x).localeCompare(String(y), fmt.locale);
      return order * direction;
    };
  }

  function render() {
    var names = columns(), sort = current.sort;
    var rows = current.rows.slice().sort(compare(sort[0], sort[1]));
    var head = el("tr", {}, names.map(function (name) {
      var button = el("button", {type: "button", "class": "sort", "data-column": name,
                                 title: T.sort, text: heading(name)});
      button.addEventListener("click", function () {
        current.sort = [name, current.sort[0] === name ? -current.sort[1] : 1];
        render();
      });
      return el("th", {scope: "col", "aria-sort": sort[0] === name
        ? (sort[1] > 0 ? "ascending" : "descending") : null}, [button]);
    }));
    var body = rows.map(function (row) {
      return el("tr", {"data-code": row.code || null}, names.map(function (name) {
        var numeric = typeof row[name] === "number";
        return el(name === "full_name" ? "th" : "td", {
          scope: name === "full_name" ? "row" : null, "class": numeric ? "number" : null,
          text: fmt.value(current.layer.id, name, row[name])});
      }));
    });
    var title = state.province && !current.layer.base
      ? fmt.fill(T.table_province, {name: state.province.name}) : T.table_view;
    var table = el("table", {"class": "figures data-table", id: "data-table-rows"}, [
      el("caption", {text: title + " · " + fmt.fill(T.table_rows, {count: rows.length})}),
      el("thead", {}, [head]), el("tbody", {}, body)]);
    var links = el("ul", {"class": "links"}, ["csv", "xlsx"].map(function (format) {
      return el("li", {}, [el("a", {id: "table-" + format, download: "",
                                    href: itemsUrl(current.layer, current.values, format),
                                    text: format === "csv" ? T.download_csv
                                      : T.download_xlsx})]);
    }));
    $("data-table").replaceChildren(el("div", {"class": "table-scroll"}, [table]), links);
  }

  // --- the map as an image ------------------------------------------------------------------

  function imageUrl(format) {
    var base = config.urls["image_" + format];
    var ids = Object.keys(api.layers).map(function (id) { return api.layers[id]; })
      .filter(function (layer) { return layer.kind !== "raster" && api.wanted(layer); })
      .sort(function (a, b) { return a.order - b.order; })
      .map(function (layer) { return layer.id; });
    var indicator = api.indicatorLayer();
    var values = {layer: ids.join(","), bbox: api.bboxParam(map.getBounds()),
                  lang: config.lang};
    if (indicator && ids.indexOf(indicator.id) >= 0) {
      var given = api.params(indicator);
      values.year = given.year;
      values.group = given.group;
      values.title = indicator.title + (state.year ? " (" + state.year + ")" : "");
    }
    var size = map.getSize();
    values.width = Math.max(300, Math.min(4000, size.x));
    values.height = Math.max(300, Math.min(4000, size.y));
    return base + api.query(values);
  }

  function updateDownloads() {
    ["png", "pdf"].forEach(function (format) {
      var link = $("download-" + format);
      if (link) { link.href = imageUrl(format); }
    });
  }

  // --- wiring -------------------------------------------------------------------------------

  if ($("table-show")) {
    $("table-show").addEventListener("click", showTable);
    api.showTable = showTable;
  }
  ["png", "pdf"].forEach(function (format) {
    var link = $("download-" + format);
    if (link) { link.addEventListener("focus", updateDownloads);
                link.addEventListener("mouseenter", updateDownloads);
                link.addEventListener("click", updateDownloads); }
  });
  map.on("moveend", updateDownloads);
  api.on(function () { updateDownloads(); });
  api.imageUrl = imageUrl;
  updateDownloads();
})();

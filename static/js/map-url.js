/* The map page's view in the URL (loaded before map.js): "#zoom/lat/lon&year=…&indicator=…
 * &group=…&model=…&level=…&layers=a,b&unit=commune:00715&border=CN". The fragment is read
 * only by the page, so a shared link, Back/Forward (history.pushState / replaceState) and a
 * language switch (which keeps the fragment) all restore the same view.
 */
(function () {
  "use strict";

  var KEYS = ["year", "indicator", "group", "model", "level", "layers", "unit", "border"];

  // {view: [zoom, lat, lon] or null, values: {key: text}} of a URL fragment.
  function parse(hash) {
    var parts = String(hash || "").replace(/^#/, "").split("&");
    var view = parts.shift().split("/").map(Number);
    var values = {};
    parts.forEach(function (part) {
      var at = part.indexOf("=");
      if (at <= 0) { return; }
      var key = decodeURIComponent(part.slice(0, at));
      if (KEYS.indexOf(key) >= 0) { values[key] = decodeURIComponent(part.slice(at + 1)); }
    });
    var valid = view.length === 3 && view.every(function (v) { return isFinite(v); });
    return {view: valid ? view : null, values: values};
  }

  function format(view, values) {
    var text = "#" + view[0] + "/" + view[1].toFixed(4) + "/" + view[2].toFixed(4);
    KEYS.forEach(function (key) {
      var value = values[key];
      if (value !== null && value !== undefined && value !== "") {
        text += "&" + key + "=" + encodeURIComponent(value).replace(/%2C/g, ",")
          .replace(/%3A/g, ":");
      }
    });
    return text;
  }

  window.geoMapUrl = {parse: parse, format: format};
})();

/* How the map page writes values (loaded before map.js): numbers, rates, changes in
 * percentage points, dates and the words for codes, in the page's language and Vietnamese
 * conventions (dd/mm/yyyy; "73,3%" in Vietnamese, "73.3%" in English, no space before %).
 * The words for codes come from the service (config.labels, built by geoservice/web/mappage.py
 * from the layer files and the translation catalogue), never from a table here.
 */
(function () {
  "use strict";

  window.geoMapFormat = function (config, T) {
    var locale = config.lang === "vi" ? "vi-VN" : "en-GB";
    var oneDecimal = new Intl.NumberFormat(locale, {maximumFractionDigits: 1});
    var whole = new Intl.NumberFormat(locale, {maximumFractionDigits: 0});
    var labels = config.labels || {fields: {}, layers: {}};

    function missing(value) { return value === null || value === undefined || value === ""; }

    function number(value) {
      if (missing(value)) { return T.no_data; }
      return (Number.isInteger(value) ? whole : oneDecimal).format(value);
    }

    function percent(value) {
      return missing(value) ? T.no_data : oneDecimal.format(value * 100) + "%";
    }

    // A change of a rate between two years, in percentage points ("+3,2 điểm %").
    function points(delta) {
      var size = oneDecimal.format(Math.abs(delta * 100));
      return (delta > 0 ? "+" : delta < 0 ? "−" : "±") + fill(T.points, {value: size});
    }

    function fill(text, values) {
      return String(text).replace(/\{(\w+)\}/g, function (all, name) {
        return values[name] !== undefined ? values[name] : all;
      });
    }

    // An ISO date (or date-time) as dd/mm/yyyy; anything else as it is.
    function date(value) {
      var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ""));
      return m ? m[3] + "/" + m[2] + "/" + m[1] : (missing(value) ? "–" : String(value));
    }

    function isDateField(name) { return /(^date$|_on$|_date$|_at$)/.test(name); }

    // The word for a code of `field` (a layer's own legend first), or null.
    function label(layerId, field, value) {
      var own = labels.layers[layerId] && labels.layers[layerId][field];
      if (own && own[String(value)] !== undefined) { return own[String(value)]; }
      var common = labels.fields[field];
      return common && common[String(value)] !== undefined ? common[String(value)] : null;
    }

    // How a property reads in a popup or a table.
    function value(layerId, field, raw) {
      if (missing(raw)) { return "–"; }
      if (Array.isArray(raw)) {
        return raw.map(function (v) { return label(layerId, field, v) || v; }).join(", ");
      }
      if (typeof raw === "object") {
        return Object.keys(raw).map(function (k) {
          return (label(layerId, "border_neighbors", k) || k) + ": " + number(raw[k]);
        }).join("; ");
      }
      var word = label(layerId, field, raw);
      if (word !== null) { return word; }
      if (isDateField(field)) { return date(raw); }
      if (/^(certification_rate|model_coverage)_/.test(field)) { return percent(raw); }
      return typeof raw === "number" ? number(raw) : String(raw);
    }

    return {number: number, percent: percent, points: points, fill: fill, date: date,
            label: label, value: value, locale: locale};
  };
})();

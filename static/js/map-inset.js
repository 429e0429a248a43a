/* The Hoàng Sa and Trường Sa inset of the map page (loaded after map.js, through
 * window.geoMap): every view of the country shows both archipelagos, so where the view is
 * national or regional (below the commune zooms) and leaves some of their islands out, a
 * framed inset in the bottom-right corner shows the sea from the coast to both, named
 * (the service draws it: /map/inset.png, as on its downloaded maps and reports). A click
 * on it brings the archipelagos into the view.
 */
(function () {
  "use strict";

  var api = window.geoMap, config = api.config, map = api.map, el = api.el;
  var inset = config.inset;
  if (!inset) { return; }
  var T = JSON.parse(document.getElementById("map-text").textContent);
  var islands = inset.islands.map(function (p) { return L.latLng(p[1], p[0]); });
  var area = L.latLngBounds([[inset.area[1], inset.area[0]], [inset.area[3], inset.area[2]]]);
  var box = null;

  function wanted() {
    if (map.getZoom() > inset.max_zoom) { return false; }
    var view = map.getBounds();
    return islands.some(function (p) { return !view.contains(p); });
  }

  var control = L.control({position: "bottomright"});
  control.onAdd = function () {
    var ratio = Math.min(3, Math.max(1, Math.round(window.devicePixelRatio || 1)));
    box = el("button", {type: "button", id: "archipelagos-inset", "class": "archipelagos-inset",
                        title: T.inset_go, "aria-label": T.inset});
    var image = el("img", {alt: T.inset});
    image.dataset.src = inset.url + "?lang=" + encodeURIComponent(config.lang) +
      (ratio > 1 ? "&scale=" + ratio : "");
    box.appendChild(image);
    L.DomEvent.disableClickPropagation(box);
    box.addEventListener("click", function () {
      map.fitBounds(area, {padding: [10, 10], maxZoom: inset.max_zoom});
    });
    return box;
  };
  control.addTo(map);

  function update() {
    box.hidden = !wanted();
    var image = box.firstChild;  // asked for once it is first shown
    if (!box.hidden && !image.getAttribute("src")) { image.src = image.dataset.src; }
  }
  map.on("moveend zoomend resize", update);
  update();
  api.inset = {shown: function () { return !box.hidden; }};
}());

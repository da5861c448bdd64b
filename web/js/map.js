// The map (Leaflet, vendored, loaded as a classic script that defines `L`). The tile URL is the
// server's configuration (`data-tile-url` on <body>); without tiles the map has no background
// but still shows the markers and takes clicks, which is all that picking a point needs.

/** @typedef {{lat: number, lon: number}} Point */

/** @type {any} */
const L = /** @type {any} */ (globalThis).L;

/**
 * @param {HTMLElement} element
 * @param {{center: Point, zoom?: number, onPick?: (point: Point) => void}} options
 */
export function createMap(element, { center, zoom = 11, onPick }) {
  if (!L) return null;
  const map = L.map(element, {
    center: [center.lat, center.lon],
    zoom,
    attributionControl: true,
    keyboard: true,
  });
  map.attributionControl.setPrefix(false);
  const tiles = document.body.dataset.tileUrl;
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution: document.body.dataset.tileAttribution ?? '' }).addTo(map);
  } else {
    element.classList.add('no-tiles');
  }
  if (onPick) {
    map.on('click', (/** @type {any} */ e) => onPick({ lat: round(e.latlng.lat), lon: round(e.latlng.lng) }));
  }
  /** @type {Record<string, any>} */
  const markers = {};
  return {
    /**
     * Sets (or with null removes) a named marker.
     * @param {string} name
     * @param {Point | null} point
     * @param {string} [label]
     */
    mark(name, point, label) {
      markers[name]?.remove();
      delete markers[name];
      if (!point) return;
      const marker = L.circleMarker([point.lat, point.lon], {
        radius: name === 'chauffeur' ? 9 : 7,
        className: `marker-${name}`,
        weight: 3,
      });
      if (label) marker.bindTooltip(label);
      markers[name] = marker.addTo(map);
    },
    /** @param {Point} point */
    centre(point, zoomLevel = zoom) {
      map.setView([point.lat, point.lon], zoomLevel);
    },
    /** Fits the ride's markers (not the landmarks) in view. */
    fit() {
      const points = ['pickup', 'dropoff', 'chauffeur'].filter((n) => markers[n]).map((n) => markers[n].getLatLng());
      if (points.length > 1) map.fitBounds(L.latLngBounds(points).pad(0.3));
      else if (points.length === 1) map.setView(points[0], Math.max(map.getZoom(), 12));
    },
    invalidate() {
      map.invalidateSize();
    },
  };
}

/** Five decimals: about a metre, enough for a pickup. @param {number} x */
function round(x) {
  return Math.round(x * 1e5) / 1e5;
}

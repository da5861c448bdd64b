// How the binary serves the pages, over plain HTTP: HTML at / and /console, a strict CSP, gzip
// when asked, ETags that revalidate, long caching for the versioned vendor files, 404s.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { base } from './harness.mjs';

test('/ and /console answer HTML with a CSP that allows only this origin', async () => {
  for (const path of ['/', '/console']) {
    const response = await fetch(`${base}${path}`);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const body = await response.text();
    assert.match(body, /<!doctype html>/i);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self';/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'no other host without --tile-url');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  }
});

test('assets are gzip-compressed when asked, revalidate by ETag, vendor files are immutable', async () => {
  const script = await fetch(`${base}/assets/js/rider.js`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(script.status, 200);
  assert.equal(script.headers.get('content-encoding'), 'gzip');
  assert.match(script.headers.get('content-type') ?? '', /javascript/);
  assert.equal(script.headers.get('cache-control'), 'no-cache');
  const etag = script.headers.get('etag');
  assert.ok(etag);
  const again = await fetch(`${base}/assets/js/rider.js`, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);

  const leaflet = await fetch(`${base}/assets/vendor/leaflet-1.9.4/leaflet.js`);
  assert.match(leaflet.headers.get('cache-control') ?? '', /immutable/);
  const licence = await fetch(`${base}/assets/vendor/leaflet-1.9.4/LICENSE`);
  assert.match(await licence.text(), /BSD/);

  for (const path of ['/assets/nope.js', '/assets/index.html', '/assets/../Cargo.toml']) {
    const missing = await fetch(`${base}${path}`);
    assert.equal(missing.status, 404, path);
  }
});

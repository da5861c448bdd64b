// The web benchmark (scripts/bench-web.sh): what the rider page weighs on the wire, and how long
// the rider's page takes to show "confirmed" after the dispatcher clicks accept.
//   weight:   every HTML, JS and CSS response of a fresh load of `/`, as sent gzip-compressed
//             (Content-Length of the compressed body), against a budget of 150 KB.
//   latency:  RIDES rides; both times are read from the same machine clock inside the pages: the
//             click on "accept" (a capturing listener in the console) and the moment the rider's
//             status badge turns to confirmed (a MutationObserver on the booking page).

import { DEMO, api, base, consoleLogin, guardedContext, launch, localIn, ready } from './harness.mjs';

const RIDES = Number(process.env.RIDES ?? 20);
const BUDGET = 150 * 1024;

const browser = await launch();

// --- weight ------------------------------------------------------------------------------------
const weigh = await guardedContext(browser);
const page = await weigh.context.newPage();
/** @type {string[]} */
const loaded = [];
page.on('response', (/** @type {any} */ r) => {
  const type = r.request().resourceType();
  if (['document', 'script', 'stylesheet'].includes(type)) loaded.push(new URL(r.url()).pathname);
});
await page.goto(`${base}/`);
await ready(page);
await weigh.context.close();
let weight = 0;
/** @type {string[]} */
const parts = [];
for (const path of loaded) {
  const r = await fetch(`${base}${path}`, { headers: { 'accept-encoding': 'gzip' } });
  await r.arrayBuffer();
  const bytes = Number(r.headers.get('content-length'));
  weight += bytes;
  parts.push(`${path} ${bytes}`);
}

// --- latency -----------------------------------------------------------------------------------
const rider = await guardedContext(browser, { locale: 'en-GB' });
const desk = await guardedContext(browser, { locale: 'en-GB' });
const riderPage = await rider.context.newPage();
await riderPage.goto(`${base}/#/account`);
await ready(riderPage);
await riderPage.fill('#li-email', DEMO.rider.email);
await riderPage.fill('#li-password', DEMO.rider.password);
await riderPage.click('#login-form button[type="submit"]');
await riderPage.locator('#view-bookings:not([hidden])').waitFor();
const token = await riderPage.evaluate(() => JSON.parse(sessionStorage.getItem('chauffeur.rider.session') ?? '{}').token);
const deskPage = await desk.context.newPage();
await consoleLogin(deskPage, DEMO.partner);
await deskPage.locator('#view-partner:not([hidden])').waitFor();

/** @type {number[]} */
const latencies = [];
for (let i = 0; i < RIDES; i++) {
  // A ride a day apart each, so none overlaps another.
  const when = localIn((30 + i) * 60 * 24, 'Europe/Berlin');
  const quotes = await api('POST', '/v1/quotes', {
    city_id: 'berlin',
    pickup: { lat: 52.5163, lon: 13.3777 },
    product: { type: 'transfer', dropoff: { lat: 52.5219, lon: 13.4132 } },
    pickup_time: { kind: 'local', at: `${when.date}T10:00` },
    passengers: 1,
  });
  const booked = await fetch(`${base}/v1/bookings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ quote_token: quotes.body.quotes[0].quote_token }),
  });
  const id = (await booked.json()).id;
  await riderPage.evaluate((/** @type {string} */ id) => {
    location.hash = `/bookings/${id}`;
  }, id);
  await riderPage.locator(`#booking-state [data-state="pending"]`).waitFor();
  await riderPage.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.confirmedAt = null;
    const badge = /** @type {HTMLElement} */ (document.getElementById('booking-state'));
    new MutationObserver(() => {
      if (!w.confirmedAt && badge.querySelector('[data-state="confirmed"]')) w.confirmedAt = Date.now();
    }).observe(badge, { childList: true, subtree: true });
  });
  const accept = deskPage.locator(`.offer[data-booking="${id}"] button.primary`);
  await accept.waitFor({ timeout: 30000 });
  await deskPage.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.clickedAt = null;
    document.addEventListener('click', () => (w.clickedAt ??= Date.now()), { capture: true, once: true });
  });
  await accept.click();
  await riderPage.waitForFunction(() => /** @type {any} */ (window).confirmedAt !== null, null, { timeout: 30000 });
  const clicked = await deskPage.evaluate(() => /** @type {any} */ (window).clickedAt);
  const confirmed = await riderPage.evaluate(() => /** @type {any} */ (window).confirmedAt);
  latencies.push(confirmed - clicked);
}
await browser.close();

latencies.sort((a, b) => a - b);
const at = (/** @type {number} */ q) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)];
console.log(`rider page weight: ${(weight / 1024).toFixed(1)} KB compressed (budget ${BUDGET / 1024} KB) — ${weight <= BUDGET ? 'within' : 'OVER'} budget`);
for (const p of parts) console.log(`  ${p}`);
console.log(`accept → "confirmed" on the rider page over ${latencies.length} rides: median ${at(0.5)} ms, p95 ${at(0.95)} ms, min ${latencies[0]} ms, max ${latencies[latencies.length - 1]} ms`);
if (weight > BUDGET) process.exitCode = 1;

// What the browser tests share: Debian's Chromium through playwright-core (installed by
// scripts/web-test.sh into the tools dir), a context that refuses every request leaving
// 127.0.0.1 and records CSP violations and page errors, an axe-core check plus a screenshot per
// screen, and direct API calls to the server under test.

import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const tools = process.env.CHAUFFEUR_WEB_TOOLS;
if (!tools) throw new Error('CHAUFFEUR_WEB_TOOLS is not set: run the tests through scripts/web-test.sh');
const require = createRequire(join(tools, 'package.json'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const base = process.env.CHAUFFEUR_BASE_URL ?? '';
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(base)) throw new Error(`CHAUFFEUR_BASE_URL must be http://127.0.0.1:<port>, not ${base}`);
const screenshots = process.env.CHAUFFEUR_SCREENSHOTS ?? 'target/web-screenshots';
mkdirSync(screenshots, { recursive: true });

/** Waits for UI changes that arrive over the network (SSE, dispatch rounds). */
export const LIVE_TIMEOUT = 20000;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHAUFFEUR_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * A browser context with the guards every test relies on. `problems` collects what must not
 * happen: requests to other hosts, CSP violations, uncaught errors.
 * @param {any} browser
 * @param {Record<string, unknown>} [options] Playwright context options (viewport, locale, …)
 */
export async function guardedContext(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE', ...options });
  /** @type {string[]} */
  const problems = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
    problems.push(`request left 127.0.0.1: ${url.href}`);
    return route.abort('blockedbyclient');
  });
  context.on('page', (page) => watchPage(page, problems));
  return { context, problems };
}

/** @param {any} page @param {string[]} problems */
function watchPage(page, problems) {
  page.on('console', (message) => {
    const text = message.text();
    if (/Content Security Policy/i.test(text)) problems.push(`CSP: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    const url = new URL(response.url());
    // The source map is only fetched by devtools; anything else missing is a broken page.
    if (response.status() === 404 && url.pathname.startsWith('/assets/') && !url.pathname.endsWith('.map')) {
      problems.push(`missing asset ${url.pathname}`);
    }
  });
}

/** @param {string[]} problems */
export function assertClean(problems) {
  assert.deepEqual(problems, [], 'no outside requests, CSP violations or page errors');
}

/**
 * One screen: axe-core finds no serious or critical violation, and a screenshot is written.
 * @param {any} page
 * @param {string} name
 */
export async function screen(page, name) {
  // Evaluated over the devtools protocol, which the page's CSP does not govern (an injected
  // <script> would be refused, as it should be).
  await page.evaluate(`${axeSource};0`);
  const result = await page.evaluate(async () => {
    // @ts-ignore
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((/** @type {any} */ v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((/** @type {any} */ n) => n.target.join(' ')).slice(0, 5) }));
  });
  const serious = result.filter((/** @type {any} */ v) => v.impact === 'serious' || v.impact === 'critical');
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  assert.deepEqual(serious, [], `accessibility violations on ${name}: ${JSON.stringify(serious, null, 1)}`);
}

/** The page fits its viewport's width (no sideways scrolling). @param {any} page */
export async function assertNoSidewaysScroll(page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `page is ${scroll}px wide in a ${width}px viewport`);
}

/**
 * A direct API call to the server under test.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {string} [token]
 */
export async function api(method, path, body, token) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** Moves the server's clock (the server runs with --test-clock). @param {number} seconds */
export async function advanceServerClock(seconds) {
  const answer = await api('POST', '/v1/test/clock', { seconds });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
}

/**
 * Date and time (`YYYY-MM-DD`, `HH:MM`) in a zone, `minutes` from now, rounded up to 5 min.
 * @param {number} minutes
 * @param {string} timeZone
 */
export function localIn(minutes, timeZone) {
  const at = new Date(Math.ceil((Date.now() + minutes * 60000) / 300000) * 300000);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

export const DEMO = {
  rider: { email: 'rider@demo.chauffeur.test', password: 'demo-rider-pass' },
  partner: { email: 'partner@demo.chauffeur.test', password: 'demo-partner-pass' },
  chauffeur: { email: 'chauffeur@demo.chauffeur.test', password: 'demo-chauffeur-pass' },
  operator: { email: 'operator@demo.chauffeur.test', password: 'demo-operator-pass' },
};

/** @param {any} page */
export async function ready(page) {
  await page.locator('body[data-ready="true"]').waitFor();
}

/**
 * Fills the rider's quote form for a Berlin transfer: pickup by place search (the airport, or
 * the city centre), drop-off by a click on the map; then asks for prices.
 * @param {any} page
 * @param {{pickup?: string, date: string, time: string, passengers?: number}} ride
 */
export async function quoteBerlin(page, ride) {
  await page.selectOption('#city', 'berlin');
  // Typed as a rider would; the suggestion chosen by its text (an airport by its code).
  const pickup = ride.pickup ?? 'BER';
  await page.fill('#pickup', pickup === 'BER' ? 'Brandenburg' : pickup);
  await page.locator('#pickup-list button.suggestion', { hasText: pickup === 'BER' ? '(BER)' : pickup }).first().click();
  await page.click('[data-pick="dropoff"]');
  await page.locator('#map').click({ position: { x: 160, y: 60 } });
  await page.locator('#dropoff').evaluate((/** @type {HTMLInputElement} */ el) => {
    if (!el.value) throw new Error('the map click set no drop-off');
  });
  await page.fill('#date', ride.date);
  await page.fill('#time', ride.time);
  await page.fill('#passengers', String(ride.passengers ?? 2));
  await page.fill('#bags', '1');
  await page.click('#quote-form button[type="submit"]');
}

/** @param {any} page @param {{email: string, password: string}} who */
export async function consoleLogin(page, who) {
  await page.goto(`${base}/console`);
  await ready(page);
  await page.fill('#email', who.email);
  await page.fill('#password', who.password);
  await page.click('#login-form button[type="submit"]');
}

// The rider page beyond the main journey: errors shown at their field, German and English,
// and cancelling in two steps with the fee shown before it is confirmed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { DEMO, assertClean, base, guardedContext, launch, localIn, quoteBerlin, ready, screen } from './harness.mjs';

/** @type {any} */
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const tomorrow = () => localIn(26 * 60, 'Europe/Berlin');

/** The next last Sunday of October (Central Europe's clocks go back) at least two days ahead. */
function nextOctoberChange() {
  const soon = Date.now() + 2 * 24 * 3600 * 1000;
  for (let year = new Date().getUTCFullYear(); ; year++) {
    const last = new Date(Date.UTC(year, 9, 31));
    last.setUTCDate(31 - last.getUTCDay());
    if (last.getTime() > soon) {
      const day = last.getUTCDate();
      return { year, day, date: `${year}-10-${String(day).padStart(2, '0')}` };
    }
  }
}

test('API refusals appear next to their field, in rider words', async () => {
  const { context, problems } = await guardedContext(browser, { locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(`${base}/#/account`);
  await ready(page);

  // A password the server refuses: the message sits at the password field.
  await page.fill('#su-email', `short-${Date.now()}@example.com`);
  await page.fill('#su-password', 'short');
  await page.click('#signup-form button[type="submit"]');
  const passwordError = page.locator('#signup-form .field-error');
  await passwordError.waitFor();
  assert.equal(await page.getAttribute('#su-password', 'aria-invalid'), 'true');
  assert.match(await passwordError.innerText(), /at least 10 characters/);
  const describedBy = await page.getAttribute('#su-password', 'aria-describedby');
  assert.equal(await passwordError.getAttribute('id'), describedBy, 'the message is tied to the field');
  await screen(page, '11-rider-signup-error');

  // A pickup time in the past: the message sits at the date and time.
  await page.goto(`${base}/#/`);
  await ready(page);
  await quoteBerlin(page, { date: '2020-01-01', time: '10:00' });
  const timeError = page.locator('#quote-form .field-error');
  await timeError.waitFor();
  assert.equal(await page.getAttribute('#date', 'aria-invalid'), 'true');
  assert.match(await timeError.innerText(), /passed/);
  await screen(page, '12-rider-quote-error');

  // A time the clocks pass twice (Berlin, the next last Sunday of October): the page asks which.
  const overlap = nextOctoberChange();
  await page.fill('#date', overlap.date);
  await page.fill('#time', '02:30');
  await page.click('#quote-form button[type="submit"]');
  await page.locator('#dst-field:not([hidden])').waitFor();
  assert.match(await page.locator('#quote-form .field-error').innerText(), /twice/);
  await screen(page, '12b-rider-dst-choice');
  await page.check('#dst-field input[value="later"]');
  await page.click('#quote-form button[type="submit"]');
  await page.locator('#view-quotes:not([hidden]) .quote').first().waitFor();
  assert.match(await page.innerText('.quote[data-class="business"]'), new RegExp(`${overlap.day} Oct ${overlap.year}, 02:30 (CET|GMT\\+1)`), 'the second 02:30, in winter time');
  assertClean(problems);
  await context.close();
});

test('German from the browser, English on request: texts, money and times', async () => {
  const { context, problems } = await guardedContext(browser, { locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await ready(page);
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  assert.equal(await page.innerText('#quote-heading'), 'Wo und wann');
  await quoteBerlin(page, tomorrow());
  const price = page.locator('.quote[data-class="business"] .price');
  await price.waitFor();
  assert.match(await price.innerText(), /^\d{1,3}(\.\d{3})*,\d{2}\s€$/, 'German money: 93,00 €');
  await screen(page, '13-rider-quotes-de');

  await page.selectOption('#lang', 'en');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.innerText('#quotes-heading'), /Choose your class/);
  assert.match(await price.innerText(), /^€\d{1,3}(,\d{3})*\.\d{2}$/, 'English money: €93.00');
  assert.match(await page.innerText('#quotes-valid'), /\d{2}:\d{2}/, 'a time in the city\'s zone');

  // The choice is kept for the next visit, and the console follows it.
  await page.goto(`${base}/console`);
  await ready(page);
  assert.equal(await page.innerText('#login-heading'), 'Log in to the console');
  await page.selectOption('#lang', 'de');
  assert.equal(await page.innerText('#login-heading'), 'In der Konsole anmelden');
  await screen(page, '14-console-login-de');
  assertClean(problems);
  await context.close();
});

test('cancel in two steps: the fee is shown, then confirmed', async () => {
  const { context, problems } = await guardedContext(browser, { locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(`${base}/#/account`);
  await ready(page);
  await page.fill('#li-email', DEMO.rider.email);
  await page.fill('#li-password', DEMO.rider.password);
  await page.click('#login-form button[type="submit"]');
  await page.locator('#view-bookings:not([hidden])').waitFor();
  await screen(page, '15-rider-bookings');

  await page.click('header nav a[href="#/"]');
  await quoteBerlin(page, { pickup: 'Berlin', ...tomorrow() });
  await page.locator('.quote[data-class="business"] button').click();
  await page.locator('#view-book:not([hidden])').waitFor();
  assert.ok(!(await page.locator('#flight-field').isVisible()), 'no flight asked away from an airport');
  await screen(page, '16-rider-book');
  await page.click('#book-submit');
  await page.locator('#view-booking:not([hidden]) #booking-state [data-state]').waitFor();

  await page.click('#cancel-ask');
  const fee = page.locator('#cancel-fee');
  await page.locator('#cancel-confirm:not([hidden])').waitFor();
  const feeText = await fee.innerText();
  assert.match(feeText, /free|costs €/, `the fee is named: ${feeText}`);
  assert.match(await page.innerText('#cancel-confirm'), /€\d+\.\d{2}/);
  await screen(page, '17-rider-cancel-fee');
  await page.click('#cancel-confirm');
  await page.locator('#booking-state [data-state="cancelled"]').waitFor();
  // The badge may turn first (the live event); the booking with its fee follows.
  await page.locator('#cancel-fee', { hasText: /Cancelled\. Fee: €\d+\.\d{2}/ }).waitFor();
  await screen(page, '18-rider-cancelled');

  await page.click('header nav a[href="#/bookings"]');
  await page.locator('#bookings .booking [data-state="cancelled"]').first().waitFor();
  assertClean(problems);
  await context.close();
});

test('by the hour: no drop-off, the hours booked, a price per class', async () => {
  const { context, problems } = await guardedContext(browser, { locale: 'en-GB', viewport: { width: 375, height: 812 } });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await ready(page);
  await page.check('input[name="product"][value="hourly"]');
  assert.ok(await page.locator('#dropoff-field').isHidden(), 'no drop-off for a hire');
  await page.fill('#pickup', 'Berlin');
  await page.locator('#pickup-list button.suggestion', { hasText: 'Berlin' }).first().click();
  await page.fill('#hours', '4');
  const when = tomorrow();
  await page.fill('#date', when.date);
  await page.fill('#time', when.time);
  await page.click('#quote-form button[type="submit"]');
  const card = page.locator('.quote[data-class="business"]');
  await card.waitFor();
  await card.locator('summary').click();
  assert.match(await card.innerText(), /Hours/, 'the breakdown names the hours');
  await screen(page, '23-rider-quotes-hourly');
  assertClean(problems);
  await context.close();
});

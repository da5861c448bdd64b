// The whole ride in three browsers at once: a rider books from an empty page (signing up on the
// way), the demo partner's dispatcher accepts and assigns in a second context while the rider's
// page turns to "confirmed", the chauffeur (phone-sized, sharing position) reports each status
// and the rider's page shows the chauffeur moving, then the completion.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  DEMO,
  LIVE_TIMEOUT,
  advanceServerClock,
  assertClean,
  assertNoSidewaysScroll,
  base,
  consoleLogin,
  guardedContext,
  launch,
  localIn,
  quoteBerlin,
  ready,
  screen,
} from './harness.mjs';

/** @type {any} */
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('book, accept, assign, drive and complete: the rider page follows live', async () => {
  const rider = await guardedContext(browser, { viewport: { width: 375, height: 812 }, locale: 'en-GB' });
  const partner = await guardedContext(browser);
  const chauffeur = await guardedContext(browser, {
    viewport: { width: 375, height: 812 },
    permissions: ['geolocation'],
    geolocation: { latitude: 52.39, longitude: 13.45 },
  });
  const page = await rider.context.newPage();

  // An empty page.
  await page.goto(`${base}/`);
  await ready(page);
  await assertNoSidewaysScroll(page);
  await screen(page, '01-rider-empty');

  // Quote: pickup at the airport in two hours (so the chauffeur may set off at once).
  const when = localIn(120, 'Europe/Berlin');
  await quoteBerlin(page, { pickup: 'BER', ...when });
  await page.locator('#view-quotes:not([hidden]) .quote').first().waitFor();
  const classes = await page.locator('.quote').evaluateAll((/** @type {any[]} */ cards) => cards.map((c) => c.dataset.class));
  assert.deepEqual(classes, ['business', 'first', 'van'], 'the three classes, as the server lists them');
  const business = page.locator('.quote[data-class="business"]');
  const quotedPrice = await business.locator('.price').innerText();
  assert.match(quotedPrice, /€\s?\d+\.\d{2}/);
  assert.match(await business.innerText(), /VAT/);
  await business.locator('summary').click();
  assert.ok((await business.locator('table.lines tr').count()) >= 2, 'a price breakdown');
  await assertNoSidewaysScroll(page);
  await screen(page, '02-rider-quotes');

  // Book → not signed in → sign up → back to the booking form.
  await business.locator('button').click();
  await page.locator('#view-account:not([hidden])').waitFor();
  await screen(page, '03-rider-account');
  const email = `web-${Date.now()}@example.com`;
  await page.fill('#su-name', 'Wendy Web');
  await page.fill('#su-email', email);
  await page.fill('#su-password', 'correct horse battery');
  await page.click('#signup-form button[type="submit"]');
  await page.locator('#view-book:not([hidden])').waitFor();
  assert.ok(await page.locator('#flight-field').isVisible(), 'an airport pickup asks for the flight');

  // Without the flight number the server refuses; the refusal is shown at the flight field.
  await page.click('#book-submit');
  const flightError = page.locator('#flight-field .field-error');
  await flightError.waitFor();
  assert.match(await flightError.innerText(), /flight number/i);
  assert.equal(await page.getAttribute('#flight_number', 'aria-invalid'), 'true');
  await screen(page, '04-rider-book-field-error');

  await page.fill('#flight_number', 'LH 123');
  await page.check('#guest');
  await page.fill('#guest_name', 'Gustav Guest');
  await page.fill('#guest_phone', '+49 30 1234567');
  await page.fill('#notes', 'Terminal 1, exit B');
  // A declined card (the dev server's test provider): refused at the card, nothing booked.
  await page.selectOption('#payment_method', 'pm_card_chargeDeclined');
  await page.click('#book-submit');
  const cardError = page.locator('#payment-field .field-error');
  await cardError.waitFor();
  assert.match(await cardError.innerText(), /declined/i);
  await screen(page, '04b-rider-card-declined');
  await page.selectOption('#payment_method', 'pm_card_visa');
  await page.click('#book-submit');
  await page.locator('#view-booking:not([hidden]) #booking-state [data-state="pending"]').waitFor();
  const bookingId = new URL(page.url()).hash.replace('#/bookings/', '');
  assert.match(bookingId, /^[0-9a-f-]{36}$/);
  assert.match(await page.locator('#booking-details').innerText(), /Gustav Guest/);
  assert.match(await page.locator('#payment-details').innerText(), /Held on your card/);
  await screen(page, '05-rider-booking-pending');

  // The dispatcher sees the offer arrive and accepts; the rider's page turns to confirmed.
  const desk = await partner.context.newPage();
  await consoleLogin(desk, DEMO.partner);
  const offer = desk.locator(`.offer[data-booking="${bookingId}"]`);
  await offer.waitFor({ timeout: LIVE_TIMEOUT });
  await screen(desk, '06-console-partner-offer');
  await offer.locator('button.primary').click();
  await page.locator('#booking-state [data-state="confirmed"]').waitFor({ timeout: LIVE_TIMEOUT });

  // Assign the demo chauffeur and a business car.
  const ride = desk.locator(`.ride[data-ride="${bookingId}"]`);
  await ride.locator('form.assign').waitFor();
  await ride.locator('form.assign button[type="submit"]').click();
  await desk.locator(`.ride[data-ride="${bookingId}"][data-state="chauffeur_assigned"]`).waitFor({ timeout: LIVE_TIMEOUT });
  await page.locator('#booking-state [data-state="chauffeur_assigned"]').waitFor({ timeout: LIVE_TIMEOUT });
  await screen(desk, '07-console-partner-assigned');

  // The chauffeur, on a phone: the ride with passenger and flight, one button per next status.
  const phone = await chauffeur.context.newPage();
  await consoleLogin(phone, DEMO.chauffeur);
  const job = phone.locator(`.ride[data-ride="${bookingId}"]`);
  await job.waitFor({ timeout: LIVE_TIMEOUT });
  const jobText = await job.innerText();
  assert.match(jobText, /Gustav Guest/);
  assert.match(jobText, /LH ?123/);
  assert.deepEqual(await job.locator('[data-status]').evaluateAll((/** @type {any[]} */ b) => b.map((x) => x.dataset.status)), ['en_route']);
  await assertNoSidewaysScroll(phone);
  await screen(phone, '08-console-chauffeur');

  // On the way: the phone shares its position, the rider sees the chauffeur, then moving.
  await job.locator('[data-status="en_route"]').click();
  await phone.locator(`.ride[data-ride="${bookingId}"][data-state="en_route"]`).waitFor({ timeout: LIVE_TIMEOUT });
  await page.locator('#booking-state [data-state="en_route"]').waitFor({ timeout: LIVE_TIMEOUT });
  await page.locator('#live[data-lat="52.39"]').waitFor({ timeout: LIVE_TIMEOUT });
  assert.match(await page.locator('#live').innerText(), /min/);
  await chauffeur.context.setGeolocation({ latitude: 52.375, longitude: 13.48 });
  await page.locator('#live[data-lat="52.375"]').waitFor({ timeout: LIVE_TIMEOUT });
  await screen(page, '09-rider-live');

  // An hour later (the server's clock): arrived, on board, completed.
  await advanceServerClock(65 * 60);
  for (const status of ['arrived', 'on_board', 'completed']) {
    const button = phone.locator(`.ride[data-ride="${bookingId}"] [data-status="${status}"]`);
    await button.waitFor({ timeout: LIVE_TIMEOUT });
    await button.click();
    await page.locator(`#booking-state [data-state="${status}"]`).waitFor({ timeout: LIVE_TIMEOUT });
  }
  // The receipt: the fare's lines, net, VAT and the total (a transfer keeps its price).
  const total = page.locator('#receipt-total');
  await total.waitFor();
  assert.equal(await total.innerText(), quotedPrice);
  assert.match(await page.locator('#receipt').innerText(), /VAT/);
  // The fare is taken from the card after the ride (the page hears it as a new version).
  await page.locator('#payment-details', { hasText: 'Paid' }).waitFor({ timeout: LIVE_TIMEOUT });
  assert.match(await page.locator('#payment-details').innerText(), new RegExp(quotedPrice.replace(/[.$]/g, '\\$&')));
  // The invoice downloads as a PDF.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#invoice-download')]);
  assert.match(download.suggestedFilename(), /^invoice-.*\.pdf$/);
  const history = await page.locator('#history li').count();
  assert.ok(history >= 7, `the history lists every change (${history})`);
  await screen(page, '10-rider-completed');

  for (const c of [rider, partner, chauffeur]) {
    assertClean(c.problems);
    await c.context.close();
  }
});

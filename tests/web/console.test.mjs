// The console's other screens: the operator's partners with their counts and the forms that add
// members and vehicles (an error at its field), the dispatcher's chauffeurs, vehicles and ride
// filters, and a rider account that has no console.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { DEMO, assertClean, consoleLogin, guardedContext, launch, screen } from './harness.mjs';

/** @type {any} */
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the operator sees the partners and adds a vehicle; a weak password is refused at its field', async () => {
  const { context, problems } = await guardedContext(browser, { locale: 'en-GB' });
  const page = await context.newPage();
  await consoleLogin(page, DEMO.operator);
  await page.locator('#view-operator:not([hidden]) #partners tbody tr').first().waitFor();
  const table = await page.innerText('#partners');
  for (const name of ['Berlin Limousines GmbH', 'Spree Chauffeurs', 'Isar Premium Cars']) assert.match(table, new RegExp(name));
  await screen(page, '19-console-operator');

  const row = page.locator('#partners tbody tr', { hasText: 'Isar Premium Cars' });
  const before = Number(await row.locator('td').nth(3).innerText());
  await page.selectOption('#nv-partner', { label: 'Isar Premium Cars' });
  await page.selectOption('#nv-class', 'van');
  await page.fill('#nv-plate', `M-WT ${Date.now() % 10000}`);
  await page.click('#new-vehicle button[type="submit"]');
  await page.locator('#partners tbody tr', { hasText: 'Isar Premium Cars' }).locator('td').nth(3).filter({ hasText: String(before + 1) }).waitFor();

  // Opening a partner shows its accounts and vehicles, the one just added among them.
  const fleet = page.locator('#partner-fleets details', { hasText: 'Isar Premium Cars' });
  await fleet.locator('summary').click();
  await fleet.locator('li[data-member]').first().waitFor();
  const fleetText = await fleet.innerText();
  assert.match(fleetText, /chauffeur@isar\.demo/);
  await fleet.locator('li[data-vehicle]', { hasText: 'Van' }).first().waitFor();
  assert.equal(await fleet.locator('li[data-vehicle]').count(), before + 1);
  await screen(page, '19b-console-operator-fleet');

  await page.selectOption('#nm-partner', { label: 'Isar Premium Cars' });
  await page.fill('#nm-name', 'Tom Test');
  await page.fill('#nm-email', `tom-${Date.now()}@example.com`);
  await page.fill('#nm-password', 'short');
  await page.click('#new-member button[type="submit"]');
  await page.locator('#new-member .field-error').waitFor();
  assert.equal(await page.getAttribute('#nm-password', 'aria-invalid'), 'true');
  await screen(page, '20-console-operator-error');
  assertClean(problems);
  await context.close();
});

test('the dispatcher lists chauffeurs and vehicles and filters rides by day and state', async () => {
  const { context, problems } = await guardedContext(browser, { locale: 'en-GB' });
  const page = await context.newPage();
  await consoleLogin(page, DEMO.partner);
  await page.locator('#view-partner:not([hidden]) #vehicles li').first().waitFor();
  assert.match(await page.innerText('#chauffeurs'), /Carl Chauffeur/);
  const vehicles = await page.innerText('#vehicles');
  for (const plate of ['B-CL 1001', 'B-CL 2001', 'B-CL 3001']) assert.match(vehicles, new RegExp(plate));
  await page.selectOption('#ride-state', 'completed');
  await page.fill('#ride-day', '2020-01-01');
  assert.match(await page.innerText('#partner-rides'), /No rides/);
  await screen(page, '21-console-partner-desk');
  assertClean(problems);
  await context.close();
});

test('a rider account in the console is sent to the booking page', async () => {
  const { context, problems } = await guardedContext(browser, { locale: 'en-GB' });
  const page = await context.newPage();
  await consoleLogin(page, DEMO.rider);
  await page.locator('#view-rider:not([hidden])').waitFor();
  await screen(page, '22-console-rider-account');
  assertClean(problems);
  await context.close();
});

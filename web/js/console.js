// The console: one log-in, and the view the account's role (`GET /v1/me`) calls for — the
// partner's dispatch desk (offers live over SSE, accept/decline, assign, give back, rides by day
// and state, chauffeurs and vehicles), the chauffeur's phone view (rides, one button per next
// status, position sharing while on the way) or the operator's partner management.

import { ApiProblem, Session, allPages, request, streamEvents } from './api.js';
import { applyTexts, formatDateTime, formatMoney, formatTime, lang, problemText, setLang, t } from './i18n.js';
import { $, announce, clearErrors, fillSelect, h, showProblem, stateBadge } from './ui.js';

/** @typedef {import('api-types').components['schemas']} Schemas */

const session = new Session('chauffeur.console.session');

const STATES = ['pending', 'confirmed', 'chauffeur_assigned', 'en_route', 'arrived', 'on_board', 'completed', 'cancelled', 'no_show', 'unfulfilled'];

/** @type {Record<string, {time_zone: string, name: string}>} */
let cities = {};
/** @type {(() => void) | null} */
let stopStream = null;
/** @type {number | null} */
let watchId = null;
let lastSent = 0;
/** @type {number | null} */
let pollTimer = null;

/** @param {string} cityId */
const zoneOf = (cityId) => cities[cityId]?.time_zone;

/** @param {string} method @param {string} path @param {unknown} [body] */
function api(method, path, body) {
  return request(method, path, { token: session.token(), body });
}

/** @param {string} name */
function show(name) {
  for (const v of ['login', 'partner', 'chauffeur', 'operator', 'rider']) $(`#view-${v}`).hidden = v !== name;
}

/** @param {unknown} e */
function report(e) {
  if (e instanceof ApiProblem && e.status === 401) {
    logOut();
    return;
  }
  announce(problemText(/** @type {any} */ (e)));
}

// ---------------------------------------------------------------------------------------------
// Partner

/** @type {Schemas['ChauffeurView'][]} */
let chauffeurs = [];
/** @type {Schemas['VehicleView'][]} */
let vehicles = [];
/** @type {Schemas['RideView'][]} */
let partnerRides = [];

async function loadPartner() {
  try {
    const token = session.token();
    const [offers, rides, cs, vs] = await Promise.all([
      allPages('/v1/partner/offers', 'offers', token),
      allPages('/v1/partner/rides', 'rides', token),
      allPages('/v1/partner/chauffeurs', 'chauffeurs', token),
      allPages('/v1/partner/vehicles', 'vehicles', token),
    ]);
    chauffeurs = cs;
    vehicles = vs;
    partnerRides = rides;
    renderOffers(offers);
    renderPartnerRides();
    $('#chauffeurs').replaceChildren(...chauffeurs.map((c) => h('li', {}, c.name ?? c.email, ' ', h('span', { class: 'hint' }, c.email))));
    $('#vehicles').replaceChildren(
      ...vehicles.map((v) =>
        h('li', {}, `${v.plate} · ${t(`class.${v.class}`)} · ${t('console.seats_bags', { seats: v.seats, bags: v.bags })}`, v.active ? '' : ` (${t('console.inactive')})`),
      ),
    );
  } catch (e) {
    report(e);
  }
}

/** @param {Schemas['OfferView'][]} offers */
function renderOffers(offers) {
  $('#offers').replaceChildren(
    ...(offers.length
      ? offers.map((o) =>
          h(
            'li',
            { class: 'card offer', 'data-booking': o.booking_id },
            h('p', {}, h('strong', {}, `${t(`class.${o.class}`)} · ${formatMoney(o.price)}`), ' · ', cities[o.city_id]?.name ?? o.city_id),
            h('p', {}, formatDateTime(o.pickup_at, zoneOf(o.city_id))),
            areaLine(o),
            h('p', { class: 'hint' }, t('console.party', { passengers: o.passengers ?? '?', bags: o.bags ?? '?' }), ' · ', t('console.expires', { time: formatTime(o.expires_at, zoneOf(o.city_id)) })),
            h(
              'div',
              { class: 'buttons' },
              h('button', { type: 'button', class: 'primary', onclick: () => answerOffer(o.id, 'accept') }, t('console.accept')),
              h('button', { type: 'button', class: 'secondary', onclick: () => answerOffer(o.id, 'decline') }, t('console.decline')),
            ),
          ),
        )
      : [h('li', { class: 'hint' }, t('console.no_offers'))]),
  );
}

/**
 * Where the ride goes, roughly (the offer's `area`: rounded points, no personal data), when the
 * server sends it.
 * @param {any} offer
 */
function areaLine(offer) {
  const area = offer.area;
  if (!area?.pickup) return null;
  // Rounded to 0.01° by the server: show no more digits than that.
  /** @param {{lat: number, lon: number}} p */
  const rough = (p) => `≈ ${p.lat.toFixed(2)}, ${p.lon.toFixed(2)}`;
  const airport = area.pickup_place?.kind === 'airport' ? `✈ ${area.pickup_place.iata} ` : '';
  const to = area.dropoff ? rough(area.dropoff) : area.hours ? `${area.hours} h` : '';
  return h('p', { class: 'hint' }, `${t('quote.pickup')}: ${airport}${rough(area.pickup)}`, to ? ` → ${to}` : '');
}

/**
 * Where a ride starts and ends (its `route`), when the server sends it.
 * @param {any} ride
 */
function routeLine(ride) {
  const route = ride.route;
  if (!route?.pickup) return null;
  const place = route.pickup_place?.kind === 'airport' ? `✈ ${route.pickup_place.iata} · ` : '';
  const to = route.dropoff ? placeText(route.dropoff) : route.hours ? `${route.hours} h` : '';
  return h('p', { class: 'hint' }, `${t('quote.pickup')}: ${place}${placeText(route.pickup)}`, to ? ` → ${to}` : '');
}

/** @param {string} id @param {'accept' | 'decline'} answer */
async function answerOffer(id, answer) {
  try {
    await api('POST', `/v1/partner/offers/${id}/${answer}`);
  } catch (e) {
    report(e);
  }
  await loadPartner();
}

function renderPartnerRides() {
  const day = /** @type {HTMLInputElement} */ ($('#ride-day')).value;
  const wanted = /** @type {HTMLSelectElement} */ ($('#ride-state')).value;
  const rides = partnerRides.filter(
    (r) => (!day || String(r.pickup_local ?? '').startsWith(day)) && (!wanted || r.state === wanted),
  );
  $('#partner-rides').replaceChildren(...(rides.length ? rides.map(partnerRide) : [h('li', { class: 'hint' }, t('console.no_rides'))]));
}

/** @param {Schemas['RideView']} r */
function partnerRide(r) {
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'assign', novalidate: true }));
  const chauffeurId = `assign-c-${r.id}`;
  const vehicleId = `assign-v-${r.id}`;
  const fitting = vehicles.filter((v) => v.active && v.class === r.class && v.seats >= (r.passengers ?? 1) && v.bags >= (r.bags ?? 0));
  const chauffeurSelect = /** @type {HTMLSelectElement} */ (h('select', { id: chauffeurId, name: 'chauffeur_id', 'data-field': 'chauffeur_id' }));
  fillSelect(chauffeurSelect, chauffeurs.map((c) => [c.id, c.name ?? c.email]), r.chauffeur_id ?? undefined);
  const vehicleSelect = /** @type {HTMLSelectElement} */ (h('select', { id: vehicleId, name: 'vehicle_id', 'data-field': 'vehicle_id' }));
  fillSelect(vehicleSelect, fitting.map((v) => [v.id, `${v.plate} (${t(`class.${v.class}`)})`]), r.vehicle_id ?? undefined);
  form.append(
    h('div', { class: 'field' }, h('label', { for: chauffeurId }, t('console.chauffeur')), chauffeurSelect),
    h('div', { class: 'field' }, h('label', { for: vehicleId }, t('console.vehicle')), vehicleSelect),
    h('p', { class: 'form-error', role: 'alert' }),
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, t('console.assign')),
      h('button', { type: 'button', class: 'secondary', onclick: () => giveBack(r.id, form) }, t('console.give_back')),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      await api('POST', `/v1/partner/rides/${r.id}/assign`, { chauffeur_id: chauffeurSelect.value, vehicle_id: vehicleSelect.value });
      await loadPartner();
      announce(t('console.saved'));
    } catch (e) {
      showProblem(form, e, { unknown_chauffeur: 'chauffeur_id', chauffeur_busy: 'chauffeur_id', unfit_vehicle: 'vehicle_id' });
    }
  });
  const assignable = ['confirmed', 'chauffeur_assigned'].includes(r.state);
  return h(
    'li',
    { class: 'card ride', 'data-ride': r.id, 'data-state': r.state },
    h('p', {}, stateBadge(r.state), ' ', h('strong', {}, `${t(`class.${r.class}`)} · ${formatMoney(r.price)}`)),
    h('p', {}, formatDateTime(r.pickup_at, zoneOf(r.city_id)), ' · ', cities[r.city_id]?.name ?? r.city_id),
    routeLine(r),
    h('p', { class: 'hint' }, [r.passenger?.name, r.passenger?.phone, r.flight_number].filter(Boolean).join(' · ')),
    assignable ? form : null,
  );
}

/** @param {string} id @param {HTMLFormElement} form */
async function giveBack(id, form) {
  clearErrors(form);
  try {
    await api('POST', `/v1/partner/rides/${id}/give-back`);
    await loadPartner();
  } catch (e) {
    showProblem(form, e);
  }
}

function startPartner() {
  show('partner');
  const select = /** @type {HTMLSelectElement} */ ($('#ride-state'));
  fillSelect(select, [['', t('console.all')], ...STATES.map((s) => /** @type {[string, string]} */ ([s, t(`state.${s}`)]))], select.value);
  loadPartner();
  const token = session.token();
  if (token && !stopStream) {
    stopStream = streamEvents(
      '/v1/partner/events',
      token,
      () => loadPartner(),
      (connected) => $('#live-dot').classList.toggle('on', connected),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Chauffeur

/** @type {Schemas['RideView'][]} */
let myRides = [];

async function loadChauffeur() {
  try {
    myRides = await allPages('/v1/chauffeur/rides', 'rides', session.token());
    renderChauffeur();
  } catch (e) {
    report(e);
  }
}

/** @param {any} point */
function placeText(point) {
  return point && typeof point.lat === 'number' ? `${point.lat.toFixed(5)}, ${point.lon.toFixed(5)}` : '';
}

function renderChauffeur() {
  const open = myRides.filter((r) => !['completed', 'cancelled', 'no_show', 'unfulfilled'].includes(r.state));
  $('#chauffeur-rides').replaceChildren(
    ...(open.length
      ? open.map((r) => {
          /** @type {any} */
          const ride = r;
          const form = /** @type {HTMLFormElement} */ (h('form', { novalidate: true }, h('p', { class: 'form-error', role: 'alert' })));
          const place = ride.route?.pickup_place ?? ride.pickup_place;
          const pickupText = [place?.kind === 'airport' ? `✈ ${place.iata}` : place?.name ?? '', placeText(ride.route?.pickup)].filter(Boolean).join(' · ');
          const buttons = (r.chauffeur_next ?? []).map((next) =>
            h('button', { type: 'button', class: next === 'no_show' ? 'danger' : 'primary big', 'data-status': next, onclick: () => report_status(r.id, next, form) }, t(`console.status.${next}`)),
          );
          form.append(h('div', { class: 'buttons' }, ...buttons));
          return h(
            'li',
            { class: 'card ride', 'data-ride': r.id, 'data-state': r.state },
            h('p', {}, stateBadge(r.state), ' ', h('strong', {}, formatDateTime(r.pickup_at, zoneOf(r.city_id)))),
            h('dl', { class: 'details' },
              h('dt', {}, t('quote.pickup')), h('dd', {}, pickupText || '—'),
              h('dt', {}, t('quote.dropoff')), h('dd', {}, placeText(ride.route?.dropoff) || (ride.route?.hours ? `${ride.route.hours} h` : '—')),
              h('dt', {}, t('booking.passenger')), h('dd', {}, [r.passenger?.name, r.passenger?.phone].filter(Boolean).join(' · ') || '—'),
              h('dt', {}, t('booking.flight')), h('dd', {}, r.flight_number ?? '—'),
              r.notes ? h('dt', {}, t('booking.notes')) : null, r.notes ? h('dd', {}, r.notes) : null,
            ),
            form,
          );
        })
      : [h('li', { class: 'hint' }, t('console.no_rides'))]),
  );
  syncSharing();
}

/** @param {string} id @param {string} status @param {HTMLFormElement} form */
async function report_status(id, status, form) {
  clearErrors(form);
  try {
    await api('POST', `/v1/chauffeur/rides/${id}/status`, { status });
    announce(t(`state.${status}`));
    await loadChauffeur();
  } catch (e) {
    showProblem(form, e);
  }
}

/** @type {{lat: number, lon: number, at: number} | null} */
let latest = null;
/** @type {number | null} */
let sendTimer = null;

/** Sends the newest position, at most one every 2 s (the server takes one a second). */
async function sendPosition() {
  if (!latest || latest.at === lastSent) return;
  lastSent = latest.at;
  const body = { lat: latest.lat, lon: latest.lon };
  const line = $('#sharing');
  try {
    await api('POST', '/v1/chauffeur/location', body);
    line.textContent = `${t('console.share')} (${body.lat.toFixed(4)}, ${body.lon.toFixed(4)})`;
    line.dataset.sent = String(Number(line.dataset.sent ?? '0') + 1);
  } catch (e) {
    if (!(e instanceof ApiProblem && e.code === 'too_many_updates')) report(e);
  }
}

/** Shares the browser's position while a ride is on the way; stops otherwise. */
function syncSharing() {
  const enRoute = myRides.some((r) => r.state === 'en_route');
  const line = $('#sharing');
  if (enRoute && watchId === null) {
    if (!navigator.geolocation) {
      line.textContent = t('error.geolocation');
      return;
    }
    watchId = navigator.geolocation.watchPosition(
      (position) => {
        latest = { lat: position.coords.latitude, lon: position.coords.longitude, at: Date.now() };
        if (Date.now() - lastSent > 2000) sendPosition();
      },
      () => {
        line.textContent = t('error.geolocation');
      },
      { enableHighAccuracy: true, maximumAge: 1000 },
    );
    sendTimer = window.setInterval(sendPosition, 2000);
    line.textContent = t('console.share');
  } else if (!enRoute && watchId !== null) {
    stopSharing();
    line.textContent = t('console.share_off');
  } else if (!enRoute) {
    line.textContent = '';
  }
}

function stopSharing() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  if (sendTimer !== null) clearInterval(sendTimer);
  sendTimer = null;
  latest = null;
}

function startChauffeur() {
  show('chauffeur');
  document.body.classList.add('phone-layout');
  loadChauffeur();
  // No chauffeur stream exists: look again every 15 s.
  if (pollTimer === null) pollTimer = window.setInterval(loadChauffeur, 15000);
}

// ---------------------------------------------------------------------------------------------
// Operator

/** @type {Schemas['PartnerSummaryView'][]} */
let partners = [];

async function loadOperator() {
  try {
    partners = await allPages('/v1/operator/partners', 'partners', session.token());
    const head = h('thead', {}, h('tr', {}, ...['console.partner_name', 'console.cities', 'console.classes', 'console.members', 'console.vehicles'].map((k) => h('th', { scope: 'col' }, t(k)))));
    const body = h(
      'tbody',
      {},
      ...partners.map((p) =>
        h('tr', {}, h('th', { scope: 'row' }, p.name, p.active ? '' : ` (${t('console.inactive')})`), h('td', {}, p.cities.join(', ')), h('td', {}, p.classes.map((c) => t(`class.${c}`)).join(', ')), h('td', { class: 'num' }, p.members), h('td', { class: 'num' }, p.vehicles)),
      ),
    );
    $('#partners').replaceChildren(head, body);
    $('#partner-fleets').replaceChildren(...partners.map(partnerFleet));
    for (const select of document.querySelectorAll('.partner-select')) {
      const s = /** @type {HTMLSelectElement} */ (select);
      fillSelect(s, partners.map((p) => [p.id, p.name]), s.value);
    }
  } catch (e) {
    report(e);
  }
}

/**
 * A partner's members and vehicles, read when the operator opens them.
 * @param {Schemas['PartnerSummaryView']} p
 */
function partnerFleet(p) {
  const list = h('div', { class: 'fleet' });
  const details = /** @type {HTMLDetailsElement} */ (h('details', { 'data-partner': p.id }, h('summary', {}, p.name), list));
  details.addEventListener('toggle', async () => {
    if (!details.open) return;
    try {
      const token = session.token();
      const [members, vehicles] = await Promise.all([
        allPages(`/v1/operator/partners/${p.id}/members`, 'members', token),
        allPages(`/v1/operator/partners/${p.id}/vehicles`, 'vehicles', token),
      ]);
      list.replaceChildren(
        h('h3', {}, t('console.members')),
        h('ul', {}, ...members.map((m) => h('li', { 'data-member': m.id }, `${m.name ?? m.email} · ${m.email} · ${t(`console.role.${m.role}`)}`))),
        h('h3', {}, t('console.vehicles')),
        h('ul', {}, ...vehicles.map((v) => h('li', { 'data-vehicle': v.id }, `${v.plate} · ${t(`class.${v.class}`)} · ${v.seats}/${v.bags}${v.active ? '' : ` (${t('console.inactive')})`}`))),
      );
    } catch (e) {
      report(e);
    }
  });
  return details;
}

/**
 * @param {string} formId
 * @param {(data: FormData) => [string, unknown]} build path and body
 */
function wireOperatorForm(formId, build) {
  const form = /** @type {HTMLFormElement} */ ($(formId));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const [path, body] = build(new FormData(form));
    try {
      await api('POST', path, body);
      announce(t('console.saved'));
      await loadOperator();
    } catch (e) {
      showProblem(form, e, { email_taken: 'email', invalid_email: 'email', password_too_short: 'password', password_too_common: 'password', unknown_city: 'cities', already_exists: 'name' });
    }
  });
}

function startOperator() {
  show('operator');
  loadOperator();
}

// ---------------------------------------------------------------------------------------------
// Log in, roles, start

/** @param {Schemas['UserView']} user */
function startFor(user) {
  $('#who').textContent = t('console.role', { name: user.name ?? user.email, role: t(`console.role.${user.role}`) });
  $('#logout').hidden = false;
  if (user.role === 'partner') startPartner();
  else if (user.role === 'chauffeur') startChauffeur();
  else if (user.role === 'operator') startOperator();
  else show('rider');
}

/** @param {Event} event */
async function submitLogin(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ ($('#login-form'));
  clearErrors(form);
  const data = new FormData(form);
  try {
    /** @type {Schemas['SessionView']} */
    const answer = await request('POST', '/v1/sessions', {
      body: { email: String(data.get('email') ?? '').trim(), password: String(data.get('password') ?? '') },
    });
    session.set(answer);
    await resume();
  } catch (e) {
    showProblem(form, e, { invalid_credentials: 'password', invalid_email: 'email', too_many_attempts: 'password' });
  }
}

async function resume() {
  if (!session.token()) {
    show('login');
    return;
  }
  try {
    /** @type {Schemas['UserView']} */
    const me = await api('GET', '/v1/me');
    startFor(me);
  } catch (e) {
    session.clear();
    show('login');
  }
}

function logOut() {
  const token = session.token();
  session.clear();
  stopStream?.();
  stopStream = null;
  stopSharing();
  if (pollTimer !== null) clearInterval(pollTimer);
  pollTimer = null;
  if (token) request('DELETE', '/v1/sessions/current', { token }).catch(() => null);
  $('#who').textContent = '';
  $('#logout').hidden = true;
  document.body.classList.remove('phone-layout');
  show('login');
}

async function start() {
  const langSelect = /** @type {HTMLSelectElement} */ ($('#lang'));
  setLang(lang());
  langSelect.value = lang();
  langSelect.addEventListener('change', async () => {
    setLang(langSelect.value === 'en' ? 'en' : 'de');
    applyTexts();
    document.title = t('console.title');
    await resume();
  });
  applyTexts();
  document.title = t('console.title');
  try {
    const catalog = await request('GET', '/v1/cities');
    cities = Object.fromEntries(catalog.cities.map((/** @type {any} */ c) => [c.id, c]));
  } catch (e) {
    report(e);
  }
  $('#login-form').addEventListener('submit', submitLogin);
  $('#logout').addEventListener('click', logOut);
  $('#ride-day').addEventListener('change', renderPartnerRides);
  $('#ride-state').addEventListener('change', renderPartnerRides);
  wireOperatorForm('#new-partner', (d) => [
    '/v1/operator/partners',
    {
      name: String(d.get('name') ?? '').trim(),
      cities: String(d.get('cities') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      classes: String(d.get('classes') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    },
  ]);
  wireOperatorForm('#new-member', (d) => [
    `/v1/operator/partners/${d.get('partner')}/members`,
    { email: String(d.get('email') ?? '').trim(), password: String(d.get('password') ?? ''), name: String(d.get('name') ?? '').trim(), role: String(d.get('role')) },
  ]);
  wireOperatorForm('#new-vehicle', (d) => [
    `/v1/operator/partners/${d.get('partner')}/vehicles`,
    { class: String(d.get('class')), plate: String(d.get('plate') ?? '').trim(), seats: Number(d.get('seats')), bags: Number(d.get('bags')) },
  ]);
  await resume();
  document.body.dataset.ready = 'true';
}

start();

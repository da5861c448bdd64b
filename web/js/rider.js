// The rider's booking page: city, places (search or map), time in the city's zone, party and
// extras → the classes with their breakdown → sign up / log in → book → my bookings → one
// booking live (status and the chauffeur on the map over SSE), two-step cancel, the receipt.
// Prices, rules and states are the server's; this page only shows and asks.

import { ApiProblem, Session, allPages, newKey, request, streamEvents } from './api.js';
import {
  applyTexts,
  formatDateTime,
  formatMoney,
  formatNumber,
  formatPercent,
  formatTime,
  lang,
  problemText,
  setLang,
  t,
} from './i18n.js';
import { $, announce, clearErrors, fillSelect, h, showError, showProblem, stateBadge } from './ui.js';
import { createMap } from './map.js';

/** @typedef {import('api-types').components['schemas']} Schemas */
/** @typedef {{lat: number, lon: number}} Point */
/** @typedef {{id?: string, name: string, kind: string, lat: number, lon: number, airport_code?: string | null}} Place */
/** @typedef {{id: string, name: string, time_zone: string, service_area: {center: Point}, airports: Array<{iata: string, name: string, lat: number, lon: number}>}} CityInfo */

const session = new Session('chauffeur.rider.session');

/** Which request field each refusal code is about, on each form. */
const QUOTE_FIELDS = {
  unknown_city: 'city_id',
  outside_service_area: 'pickup',
  invalid_coordinates: 'pickup',
  pickup_in_past: 'pickup_time',
  pickup_too_soon: 'pickup_time',
  pickup_too_far_ahead: 'pickup_time',
  pickup_in_dst_gap: 'pickup_time',
  pickup_time_ambiguous: 'pickup_time',
  on_demand_unavailable: 'pickup_time',
  capacity_exceeded: 'passengers',
  hours_out_of_range: 'hours',
};
const BOOK_FIELDS = {
  payment_method_required: 'payment_method_id',
  payment_method_invalid: 'payment_method_id',
  card_declined: 'payment_method_id',
  flight_number_required: 'flight_number',
  invalid_flight_number: 'flight_number',
  invalid_phone: 'passenger.phone',
};
const ACCOUNT_FIELDS = {
  email_taken: 'email',
  invalid_email: 'email',
  password_too_short: 'password',
  password_too_long: 'password',
  password_too_common: 'password',
  password_control_characters: 'password',
  invalid_credentials: 'password',
  invalid_phone: 'phone',
};

const state = {
  /** @type {CityInfo[]} */
  cities: [],
  /** @type {{pickup: Place | null, dropoff: Place | null}} */
  places: { pickup: null, dropoff: null },
  /** @type {'pickup' | 'dropoff' | null} */
  picking: null,
  /** @type {Schemas['QuotesResponse'] | null} */
  quotes: null,
  /** @type {Schemas['QuoteView'] | null} */
  chosen: null,
  /** The idempotency key of the booking attempt under way (kept across a retry). */
  bookingKey: '',
  /** After logging in, continue to the booking form. */
  continueToBook: false,
  /** Which card payment the server takes (`none`, `test`, `stripe`). */
  /** @type {Schemas['PaymentsConfigView'] | null} */
  payments: null,
  placesApi: true,
  /** @type {(() => void) | null} */
  stopStream: null,
  /** @type {ReturnType<typeof createMap>} */
  map: null,
  /** @type {ReturnType<typeof createMap>} */
  bookingMap: null,
};

/** @param {string} id */
function city(id) {
  return state.cities.find((c) => c.id === id);
}

function currentCity() {
  return city(/** @type {HTMLSelectElement} */ ($('#city')).value);
}

// ---------------------------------------------------------------------------------------------
// Views

const VIEWS = ['quote', 'quotes', 'book', 'account', 'bookings', 'booking'];

/** @param {string} name */
function show(name) {
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== name;
  for (const link of document.querySelectorAll('header nav a')) {
    const target = link.getAttribute('href');
    const current =
      (name === 'quote' && target === '#/') ||
      (name.startsWith('booking') && target === '#/bookings') ||
      (name === 'account' && target === '#/account');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (name !== 'booking') stopLive();
}

async function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  announce('');
  if (hash.startsWith('/bookings/')) {
    show('booking');
    await openBooking(hash.slice('/bookings/'.length));
  } else if (hash === '/bookings') {
    show('bookings');
    await listBookings();
  } else if (hash === '/account') {
    show('account');
    renderAccount();
  } else if (hash === '/quotes' && state.quotes) {
    show('quotes');
  } else if (hash === '/book' && state.chosen) {
    show('book');
    renderBook();
  } else {
    show('quote');
    state.map?.invalidate();
  }
}

/** @param {string} path */
function go(path) {
  if (location.hash === `#${path}`) route();
  else location.hash = path;
}

// ---------------------------------------------------------------------------------------------
// Quote form

function localDefaults() {
  const c = currentCity();
  if (!c) return;
  // Tomorrow at 10:00 in the city's zone.
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  const date = new Intl.DateTimeFormat('en-CA', { timeZone: c.time_zone }).format(tomorrow);
  const dateInput = /** @type {HTMLInputElement} */ ($('#date'));
  if (!dateInput.value) dateInput.value = date;
  const timeInput = /** @type {HTMLInputElement} */ ($('#time'));
  if (!timeInput.value) timeInput.value = '10:00';
}

function renderTimeLabel() {
  const c = currentCity();
  $('#time-label').textContent = t('quote.time', { zone: c?.time_zone ?? '' });
}

function onCityChange() {
  const c = currentCity();
  state.places = { pickup: null, dropoff: null };
  /** @type {HTMLInputElement} */ ($('#pickup')).value = '';
  /** @type {HTMLInputElement} */ ($('#dropoff')).value = '';
  renderTimeLabel();
  localDefaults();
  if (c && state.map) {
    state.map.mark('pickup', null);
    state.map.mark('dropoff', null);
    state.map.centre(c.service_area.center);
    for (const airport of c.airports) {
      state.map.mark(`airport-${airport.iata}`, airport, `${airport.name} (${airport.iata})`);
    }
  }
}

/**
 * Places for a query: the server's place search, or, while it is not there (404), the
 * catalog's airports and the city centre matched by name.
 * @param {string} query
 * @returns {Promise<Place[]>}
 */
async function searchPlaces(query) {
  const c = currentCity();
  if (!c || query.trim().length < 2) return [];
  if (state.placesApi) {
    try {
      const params = new URLSearchParams({ city: c.id, q: query.trim() });
      const answer = await request('GET', `/v1/places?${params}`);
      return answer.places ?? [];
    } catch (e) {
      // Only a server without place search falls back (its 404 names no such route).
      if (!(e instanceof ApiProblem) || e.code !== 'route_not_found') return [];
      state.placesApi = false;
    }
  }
  const needle = query.trim().toLowerCase();
  /** @type {Place[]} */
  const known = [
    { name: c.name, kind: 'city_centre', ...c.service_area.center },
    ...c.airports.map((a) => ({ name: `${a.name} (${a.iata})`, kind: 'airport', lat: a.lat, lon: a.lon, airport_code: a.iata })),
  ];
  return known.filter((p) => p.name.toLowerCase().includes(needle));
}

/** A place as listed: its name, with the airport's code when the name lacks it. @param {Place} place */
function placeLabel(place) {
  const code = place.airport_code;
  return code && !place.name.includes(code) ? `${place.name} (${code})` : place.name;
}

/** @param {'pickup' | 'dropoff'} which @param {Place} place */
function setPlace(which, place) {
  state.places[which] = place;
  /** @type {HTMLInputElement} */ ($(`#${which}`)).value = placeLabel(place);
  $(`#${which}-list`).hidden = true;
  state.map?.mark(which, place, t(`quote.${which}`));
  state.map?.fit();
}

/** @param {'pickup' | 'dropoff'} which */
function wirePlaceInput(which) {
  const input = /** @type {HTMLInputElement} */ ($(`#${which}`));
  const list = $(`#${which}-list`);
  let timer = 0;
  let asked = 0;
  input.addEventListener('input', () => {
    state.places[which] = null;
    clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const ask = ++asked;
      const places = await searchPlaces(input.value);
      if (ask !== asked) return;
      list.replaceChildren(
        ...(places.length
          ? places.slice(0, 8).map((place) =>
              h('li', {}, h('button', { type: 'button', class: 'suggestion', onclick: () => setPlace(which, place) }, placeLabel(place))),
            )
          : [h('li', { class: 'hint' }, t('quote.no_places'))]),
      );
      list.hidden = input.value.trim().length < 2;
    }, 200);
  });
}

/** @param {Point} point */
async function onMapPick(point) {
  const which = state.picking ?? (state.places.pickup ? 'dropoff' : 'pickup');
  if (which === 'dropoff' && productKind() === 'hourly') return;
  /** @type {Place} */
  const picked = {
    name: t('quote.point', { lat: point.lat.toFixed(4), lon: point.lon.toFixed(4) }),
    kind: 'point',
    ...point,
  };
  setPlace(which, picked);
  state.picking = null;
  $('#picking').textContent = '';
  // Name the point after a known place right there, when the place search knows one.
  const near = await nearestPlace(point);
  if (near && state.places[which] === picked) setPlace(which, { ...picked, name: near.name });
}

/**
 * The place search's nearest place within 150 m of a point, if the server has place search.
 * @param {Point} point
 * @returns {Promise<Place | null>}
 */
async function nearestPlace(point) {
  if (!state.placesApi) return null;
  try {
    const params = new URLSearchParams({ lat: String(point.lat), lon: String(point.lon) });
    /** @type {{places?: Place[]}} */
    const answer = await request('GET', `/v1/places?${params}`);
    const first = answer.places?.[0];
    return first && metresBetween(first, point) <= 150 ? first : null;
  } catch (e) {
    if (e instanceof ApiProblem && e.code === 'route_not_found') state.placesApi = false;
    return null;
  }
}

/** Great-circle distance, for "is this the same spot". @param {Point} a @param {Point} b */
function metresBetween(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(h));
}

function productKind() {
  const checked = /** @type {HTMLInputElement | null} */ (document.querySelector('input[name="product"]:checked'));
  return checked?.value === 'hourly' ? 'hourly' : 'transfer';
}

function onProductChange() {
  const hourly = productKind() === 'hourly';
  $('#dropoff-field').hidden = hourly;
  $('#hours-field').hidden = !hourly;
  if (hourly) state.map?.mark('dropoff', null);
}

/** @param {Event} event */
async function submitQuote(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ ($('#quote-form'));
  clearErrors(form);
  const c = currentCity();
  const data = new FormData(form);
  const date = String(data.get('date') ?? '');
  const time = String(data.get('time') ?? '');
  if (!state.places.pickup) return showError(form, 'pickup', t('error.pick_place'));
  const hourly = productKind() === 'hourly';
  if (!hourly && !state.places.dropoff) return showError(form, 'dropoff', t('error.pick_place'));
  if (!date || !time) return showError(form, 'pickup_time', t('error.required'));
  /** @type {Record<string, unknown>} */
  const pickupTime = { kind: 'local', at: `${date}T${time}` };
  const dstField = $('#dst-field');
  const dst = /** @type {HTMLInputElement | null} */ (document.querySelector('input[name="dst"]:checked'));
  if (!dstField.hidden && dst) pickupTime.dst = dst.value;
  const body = {
    city_id: c?.id,
    pickup: { lat: state.places.pickup.lat, lon: state.places.pickup.lon },
    product: hourly
      ? { type: 'hourly', hours: Number(data.get('hours')) }
      : { type: 'transfer', dropoff: { lat: state.places.dropoff?.lat, lon: state.places.dropoff?.lon } },
    pickup_time: pickupTime,
    passengers: Number(data.get('passengers')),
    bags: Number(data.get('bags')),
    extras: { meet_and_greet: data.get('meet_and_greet') === 'on', child_seats: Number(data.get('child_seats')) },
  };
  try {
    state.quotes = await request('POST', '/v1/quotes', { body });
  } catch (e) {
    if (e instanceof ApiProblem && e.code === 'pickup_time_ambiguous') dstField.hidden = false;
    showProblem(form, e, QUOTE_FIELDS);
    return;
  }
  dstField.hidden = true;
  renderQuotes();
  go('/quotes');
}

// ---------------------------------------------------------------------------------------------
// Quotes

/** @param {Schemas['LineView'] | any} line @param {string} currency */
function lineRow(line, currency) {
  const amount = line.amount ?? { amount_minor: line.amount_minor, currency };
  return h('tr', {}, h('th', { scope: 'row' }, t(`line.${line.kind}`)), h('td', { class: 'num' }, formatMoney(amount)));
}

/** @param {any[]} lines @param {string} currency */
function breakdown(lines, currency) {
  return h('table', { class: 'lines' }, h('tbody', {}, ...lines.map((l) => lineRow(l, currency))));
}

function renderQuotes() {
  const answer = state.quotes;
  if (!answer) return;
  const c = city(answer.city_id);
  const list = $('#quotes');
  const first = answer.quotes[0];
  $('#quotes-valid').textContent = first ? t('quotes.valid_until', { time: formatTime(first.valid_until, c?.time_zone) }) : '';
  list.replaceChildren(
    ...answer.quotes.map((q) =>
      h(
        'li',
        { class: 'card quote', 'data-class': q.class },
        h('h2', {}, t(`class.${q.class}`)),
        h('p', { class: 'price' }, formatMoney(q.total)),
        h('p', { class: 'hint' }, t('quotes.vat', { rate: formatPercent(q.vat_rate_bp), amount: formatMoney(q.vat) }), ' · ', t('quotes.net', { amount: formatMoney(q.net) })),
        h('p', { class: 'hint' }, formatDateTime(q.pickup_at, c?.time_zone), ' · ', t('quotes.distance', { km: formatNumber(q.distance_m / 1000), min: Math.round(q.duration_s / 60) })),
        h('details', {}, h('summary', {}, t('quotes.breakdown')), breakdown(q.lines, q.total.currency)),
        h('button', { type: 'button', class: 'primary', onclick: () => choose(q) }, t('quotes.choose', { class: t(`class.${q.class}`) })),
      ),
    ),
  );
}

/** @param {Schemas['QuoteView']} quote */
function choose(quote) {
  state.chosen = quote;
  state.bookingKey = newKey();
  if (!session.token()) {
    state.continueToBook = true;
    announce(t('book.need_account'));
    go('/account');
    return;
  }
  go('/book');
}

// ---------------------------------------------------------------------------------------------
// Booking form

function renderBook() {
  const q = state.chosen;
  if (!q) return;
  const c = city(state.quotes?.city_id ?? '');
  $('#book-summary').replaceChildren(
    h('h2', {}, t(`class.${q.class}`), ' · ', formatMoney(q.total)),
    h('p', {}, formatDateTime(q.pickup_at, c?.time_zone)),
    h('p', { class: 'hint' }, state.places.pickup?.name ?? '', q.product === 'transfer' ? ` → ${state.places.dropoff?.name ?? ''}` : ` · ${q.hours} h`),
  );
  $('#flight-field').hidden = q.pickup_place.kind !== 'airport';
  renderPaymentChoice();
  $('#book-submit').textContent = t('book.submit', { price: formatMoney(q.total) });
}

/**
 * The card to pay with. The test provider's cards are offered by name; a real provider's card
 * form comes from its own script (card details never reach this page's code or our server),
 * which this page does not bundle: it says so instead of taking bookings it cannot pay.
 */
function renderPaymentChoice() {
  const provider = state.payments?.provider ?? 'none';
  $('#payment-field').hidden = provider === 'none';
  const select = /** @type {HTMLSelectElement} */ ($('#payment_method'));
  if (provider === 'test') {
    const chosen = select.value || 'pm_card_visa';
    fillSelect(select, [
      ['pm_card_visa', t('pay.test_visa')],
      ['pm_card_threeDSecure2Required', t('pay.test_3ds')],
      ['pm_card_chargeDeclined', t('pay.test_declined')],
    ], chosen);
    select.disabled = false;
    $('#payment-hint').textContent = t('pay.test_hint', { percent: formatPercent(state.payments?.allowance_bp ?? 0) });
  } else if (provider !== 'none') {
    fillSelect(select, [['', t('pay.unavailable')]], '');
    select.disabled = true;
    $('#payment-hint').textContent = t('pay.provider_script_missing');
  }
}

/** @param {Event} event */
async function submitBooking(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ ($('#book-form'));
  clearErrors(form);
  const q = state.chosen;
  const token = session.token();
  if (!q || !token) return go('/account');
  const data = new FormData(form);
  /** @type {Record<string, unknown>} */
  const body = { quote_token: q.quote_token };
  if (/** @type {HTMLInputElement} */ ($('#guest')).checked) {
    const name = String(data.get('guest_name') ?? '').trim();
    const phone = String(data.get('guest_phone') ?? '').trim();
    if (!name) return showError(form, 'passenger.name', t('error.required'));
    if (!phone) return showError(form, 'passenger.phone', t('error.required'));
    body.passenger = { name, phone };
  }
  const flight = String(data.get('flight_number') ?? '').trim();
  if (flight && q.pickup_place.kind === 'airport') body.flight_number = flight;
  const notes = String(data.get('notes') ?? '').trim();
  if (notes) body.notes = notes;
  if ((state.payments?.provider ?? 'none') !== 'none') {
    const card = String(data.get('payment_method') ?? '');
    if (!card) return showError(form, 'payment_method_id', t('pay.unavailable'));
    body.payment_method_id = card;
  }
  const button = /** @type {HTMLButtonElement} */ ($('#book-submit'));
  button.disabled = true;
  try {
    /** @type {Schemas['BookingView']} */
    const booking = await request('POST', '/v1/bookings', {
      body,
      token,
      headers: { 'idempotency-key': state.bookingKey },
    });
    state.chosen = null;
    state.bookingKey = '';
    form.reset();
    announce(t(booking.state === 'payment_pending' ? 'book.card_step' : 'book.done'));
    go(`/bookings/${booking.id}`);
  } catch (e) {
    // A refusal ends this attempt: the next one (with other details) gets its own key. A
    // network failure keeps the key, so retrying cannot book twice.
    if (e instanceof ApiProblem && e.status >= 400 && e.status < 500) state.bookingKey = newKey();
    if (e instanceof ApiProblem && (e.code === 'quote_expired' || e.code === 'quote_invalid')) {
      showProblem(form, e);
    } else if (e instanceof ApiProblem && e.status === 401) {
      session.clear();
      state.continueToBook = true;
      go('/account');
    } else {
      showProblem(form, e, BOOK_FIELDS);
    }
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Account

function renderAccount() {
  const s = session.get();
  $('#signed-in').textContent = s ? t('account.signed_in', { email: s.user.email }) : '';
  $('#logout').hidden = !s;
  for (const f of ['#signup-form', '#login-form']) $(f).hidden = Boolean(s);
}

/** @param {Schemas['SessionView']} answer */
function signedIn(answer) {
  session.set(answer);
  renderAccount();
  announce(t('account.signed_in', { email: answer.user.email }));
  if (state.continueToBook && state.chosen) {
    state.continueToBook = false;
    go('/book');
  } else {
    go('/bookings');
  }
}

/** @param {Event} event */
async function submitSignUp(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  clearErrors(form);
  const data = new FormData(form);
  const email = String(data.get('email') ?? '').trim();
  const password = String(data.get('password') ?? '');
  /** @type {Record<string, string>} */
  const body = { email, password };
  const name = String(data.get('name') ?? '').trim();
  const phone = String(data.get('phone') ?? '').trim();
  if (name) body.name = name;
  if (phone) body.phone = phone;
  try {
    await request('POST', '/v1/accounts', { body });
    signedIn(await request('POST', '/v1/sessions', { body: { email, password } }));
  } catch (e) {
    showProblem(form, e, ACCOUNT_FIELDS);
  }
}

/** @param {Event} event */
async function submitLogIn(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  clearErrors(form);
  const data = new FormData(form);
  try {
    signedIn(
      await request('POST', '/v1/sessions', {
        body: { email: String(data.get('email') ?? '').trim(), password: String(data.get('password') ?? '') },
      }),
    );
  } catch (e) {
    showProblem(form, e, ACCOUNT_FIELDS);
  }
}

async function logOut() {
  const token = session.token();
  session.clear();
  if (token) await request('DELETE', '/v1/sessions/current', { token }).catch(() => null);
  renderAccount();
  go('/');
}

// ---------------------------------------------------------------------------------------------
// My bookings and one booking

/** @param {unknown} e */
function handleAuthFailure(e) {
  if (e instanceof ApiProblem && e.status === 401) {
    session.clear();
    go('/account');
    return true;
  }
  return false;
}

async function listBookings() {
  const list = $('#bookings');
  const token = session.token();
  if (!token) return go('/account');
  try {
    /** @type {Schemas['BookingView'][]} */
    const bookings = await allPages('/v1/bookings', 'bookings', token);
    list.replaceChildren(
      ...(bookings.length
        ? bookings.map((b) =>
            h(
              'li',
              { class: 'card booking', 'data-id': b.id },
              h('p', {}, stateBadge(b.state), ' ', t(`class.${b.class}`), ' · ', formatMoney(b.price)),
              h('p', {}, formatDateTime(b.pickup_at, city(b.city_id)?.time_zone), ' · ', city(b.city_id)?.name ?? b.city_id),
              h('a', { href: `#/bookings/${b.id}` }, t('bookings.open')),
            ),
          )
        : [h('li', { class: 'hint' }, t('bookings.none'))]),
    );
  } catch (e) {
    if (!handleAuthFailure(e)) announce(problemText(/** @type {any} */ (e)));
  }
}

/** @type {any} */
let shown = null;

/** @param {string} id */
async function openBooking(id) {
  const token = session.token();
  if (!token) return go('/account');
  resetCancel();
  try {
    await refreshBooking(id);
    startLive(id, token);
  } catch (e) {
    if (!handleAuthFailure(e)) announce(problemText(/** @type {any} */ (e)));
  }
}

/** @param {string} id */
async function refreshBooking(id) {
  const token = session.token();
  /** @type {any} */
  const booking = await request('GET', `/v1/bookings/${id}`, { token });
  /** @type {Schemas['HistoryView']} */
  const history = await request('GET', `/v1/bookings/${id}/history`, { token });
  shown = booking;
  renderBooking(booking, history);
}

/** @param {any} b @param {Schemas['HistoryView']} history */
function renderBooking(b, history) {
  const c = city(b.city_id);
  const zone = c?.time_zone;
  $('#booking-state').replaceChildren(stateBadge(b.state));
  /** @type {Array<[string, string]>} */
  const rows = [
    ['booking.pickup_at', formatDateTime(b.pickup_at, zone)],
    ['booking.price', `${t(`class.${b.class}`)} · ${formatMoney(b.price)}`],
  ];
  if (b.vat && b.vat_rate_bp != null) rows.push(['booking.vat', t('quotes.vat', { rate: formatPercent(b.vat_rate_bp), amount: formatMoney(b.vat) })]);
  if (b.route?.distance_m != null && b.route?.dropoff) {
    rows.push(['booking.route', t('quotes.distance', { km: formatNumber(b.route.distance_m / 1000), min: Math.round(b.route.duration_s / 60) })]);
  } else if (b.route?.hours) {
    rows.push(['quote.hours', String(b.route.hours)]);
  }
  if (b.final_price) rows.push(['booking.final_price', formatMoney(b.final_price)]);
  if (b.passenger?.name) rows.push(['booking.passenger', `${b.passenger.name} ${b.passenger.phone ?? ''}`.trim()]);
  if (b.flight_number) rows.push(['booking.flight', b.flight_number]);
  if (b.notes) rows.push(['booking.notes', b.notes]);
  $('#booking-details').replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)]));
  const cancellable = ['pending', 'confirmed', 'chauffeur_assigned', 'en_route', 'arrived'].includes(b.state);
  $('#cancel-section').hidden = !cancellable && !b.cancellation_fee;
  $('#cancel-ask').hidden = !cancellable;
  if (b.state === 'cancelled' && b.cancellation_fee) {
    $('#cancel-fee').textContent = t('booking.cancelled', { fee: formatMoney(b.cancellation_fee) });
  }
  renderReceipt(b);
  renderPayment(b);
  $('#history').replaceChildren(
    ...history.entries.map((e) =>
      h('li', {}, h('time', { datetime: e.at }, formatDateTime(e.at, zone)), ' ', stateBadge(e.to_state), ' ', h('span', { class: 'hint' }, t(`actor.${e.actor}`))),
    ),
  );
  // The route is on the booking once the server sends it; until then the map shows the city.
  const map = bookingMap(c);
  const pickup = b.route?.pickup;
  const dropoff = b.route?.dropoff;
  map?.mark('pickup', pickup ?? null, t('quote.pickup'));
  map?.mark('dropoff', dropoff ?? null, t('quote.dropoff'));
  if (pickup) map?.fit();
  if (b.state !== 'en_route') {
    map?.mark('chauffeur', null);
    $('#live').textContent = '';
  }
}

/** @param {CityInfo | undefined} c */
function bookingMap(c) {
  if (!state.bookingMap && c) {
    state.bookingMap = createMap($('#booking-map'), { center: c.service_area.center, zoom: 11 });
  }
  state.bookingMap?.invalidate();
  return state.bookingMap;
}

/** The card payment: what is held, taken, refunded; the card step when one waits. @param {any} b */
function renderPayment(b) {
  const p = b.payment;
  $('#payment-section').hidden = !p;
  if (!p) return;
  /** @type {Array<[string, string]>} */
  const rows = [['booking.payment_status', t(`pay.status.${p.status}`)]];
  if (p.status === 'authorized' || p.status === 'requires_action') rows.push(['pay.held', formatMoney(p.held)]);
  if (p.captured.amount_minor > 0) rows.push(['pay.captured', formatMoney(p.captured)]);
  if (p.extra_charged.amount_minor > 0) rows.push(['pay.extra', formatMoney(p.extra_charged)]);
  for (const r of p.refunds ?? []) rows.push(['pay.refund', `${formatMoney(r.amount)} · ${r.reason}`]);
  if (p.failure) rows.push(['pay.failure', p.failure]);
  $('#payment-details').replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)]));
  $('#payment-check').hidden = b.state !== 'payment_pending';
}

/** Asks the server how the card step ended (after the bank's check in the provider's window). */
async function checkPayment() {
  const token = session.token();
  if (!shown || !token) return;
  try {
    await request('POST', `/v1/bookings/${shown.id}/payment/confirm`, { token });
    await refreshBooking(shown.id);
    announce(t(`state.${shown.state}`));
  } catch (e) {
    announce(problemText(/** @type {any} */ (e)));
  }
}

/** The invoice as a PDF in the page's language, downloaded with the rider's token. */
async function downloadInvoice() {
  const token = session.token();
  if (!shown || !token) return;
  const id = shown.id;
  const response = await fetch(`/v1/bookings/${id}/invoice?lang=${lang()}`, {
    headers: { accept: 'application/pdf', authorization: `Bearer ${token}` },
  }).catch(() => null);
  if (!response?.ok) {
    announce(t('booking.invoice_unavailable'));
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: `invoice-${id}.pdf` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The receipt, once the server has one (completed, or a cancellation fee). @param {any} b */
function renderReceipt(b) {
  const box = $('#receipt');
  const receipt = b.receipt;
  $('#invoice-download').hidden = !receipt;
  if (!receipt) {
    box.replaceChildren(h('p', { class: 'hint' }, t('booking.receipt_pending')));
    return;
  }
  const currency = receipt.total?.currency ?? b.price.currency;
  const lines = [...(receipt.lines ?? []), ...(receipt.extras ?? [])];
  /** @type {HTMLElement[]} */
  const totals = [];
  if (receipt.net) totals.push(h('tr', {}, h('th', { scope: 'row' }, t('booking.net')), h('td', { class: 'num' }, formatMoney(receipt.net))));
  if (receipt.vat) totals.push(h('tr', {}, h('th', { scope: 'row' }, t('booking.vat')), h('td', { class: 'num' }, formatMoney(receipt.vat))));
  totals.push(h('tr', { class: 'total' }, h('th', { scope: 'row' }, t('booking.total')), h('td', { class: 'num', id: 'receipt-total' }, formatMoney(receipt.total ?? b.final_price))));
  box.replaceChildren(breakdown(lines, currency), h('table', { class: 'lines totals' }, h('tbody', {}, ...totals)));
}

/** @param {string} id @param {string} token */
function startLive(id, token) {
  stopLive();
  state.stopStream = streamEvents(`/v1/bookings/${id}/events`, token, async (event) => {
    if (!shown || shown.id !== id) return;
    if (event.event === 'status') {
      // The new state at once (from the event), then the rest of the booking and its history.
      // Events the page has seen already (the stream replays them on connecting) change nothing.
      const change = JSON.parse(event.data);
      if (change.version <= shown.version) return;
      $('#booking-state').replaceChildren(stateBadge(change.state));
      await refreshBooking(id).catch(() => null);
      announce(t(`state.${shown.state}`));
    } else if (event.event === 'position') {
      const position = JSON.parse(event.data);
      const c = city(shown.city_id);
      state.bookingMap?.mark('chauffeur', position, t('actor.chauffeur'));
      state.bookingMap?.fit();
      $('#live').textContent =
        position.eta_s != null
          ? t('booking.eta', { min: Math.max(1, Math.round(position.eta_s / 60)) })
          : t('booking.chauffeur_at', { time: formatTime(position.at, c?.time_zone) });
      $('#live').dataset.lat = String(position.lat);
      $('#live').dataset.lon = String(position.lon);
    }
  });
}

function stopLive() {
  state.stopStream?.();
  state.stopStream = null;
}

// Cancel in two steps: ask the fee, then confirm exactly that fee.
/** @type {Schemas['CancellationView'] | null} */
let offeredCancellation = null;

function resetCancel() {
  offeredCancellation = null;
  $('#cancel-fee').textContent = '';
  $('#cancel-confirm').hidden = true;
  $('#cancel-keep').hidden = true;
  const form = /** @type {HTMLFormElement} */ ($('#cancel-form'));
  clearErrors(form);
}

async function askCancel() {
  const form = /** @type {HTMLFormElement} */ ($('#cancel-form'));
  clearErrors(form);
  try {
    /** @type {Schemas['CancellationView']} */
    const offer = await request('GET', `/v1/bookings/${shown.id}/cancellation`, { token: session.token() });
    offeredCancellation = offer;
    const zone = city(shown.city_id)?.time_zone;
    const free = offer.fee.amount_minor === 0;
    $('#cancel-fee').textContent = [
      free ? t('booking.cancel_free') : t('booking.cancel_fee', { fee: formatMoney(offer.fee) }),
      offer.changes_at ? t('booking.cancel_changes', { time: formatDateTime(offer.changes_at, zone) }) : '',
    ].join(' ');
    const confirm = $('#cancel-confirm');
    confirm.textContent = t('booking.cancel_confirm', { fee: formatMoney(offer.fee) });
    confirm.hidden = false;
    $('#cancel-keep').hidden = false;
    $('#cancel-ask').hidden = true;
    confirm.focus();
  } catch (e) {
    showProblem(form, e);
  }
}

/** @param {Event} event */
async function confirmCancel(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ ($('#cancel-form'));
  clearErrors(form);
  if (!offeredCancellation) return;
  try {
    await request('POST', `/v1/bookings/${shown.id}/cancel`, {
      token: session.token(),
      body: { acknowledged_fee_minor: offeredCancellation.fee.amount_minor },
    });
    resetCancel();
    await refreshBooking(shown.id);
  } catch (e) {
    showProblem(form, e);
    if (e instanceof ApiProblem && e.code === 'cancellation_fee_changed') {
      await askCancel();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Start

function retranslate() {
  document.title = t('app.title');
  applyTexts();
  renderTimeLabel();
  if (state.quotes) renderQuotes();
  if (state.chosen) renderBook();
  renderAccount();
  route();
}

async function start() {
  const langSelect = /** @type {HTMLSelectElement} */ ($('#lang'));
  setLang(lang());
  langSelect.value = lang();
  langSelect.addEventListener('change', () => {
    setLang(langSelect.value === 'en' ? 'en' : 'de');
    retranslate();
  });
  applyTexts();
  document.title = t('app.title');
  $('#payment-check').addEventListener('click', checkPayment);
  $('#invoice-download').addEventListener('click', downloadInvoice);
  try {
    const catalog = await request('GET', '/v1/cities');
    state.cities = catalog.cities;
    state.payments = await request('GET', '/v1/payments/config');
  } catch (e) {
    announce(problemText(/** @type {any} */ (e)));
    return;
  }
  const select = /** @type {HTMLSelectElement} */ ($('#city'));
  fillSelect(
    select,
    [...state.cities].sort((a, b) => a.name.localeCompare(b.name)).map((c) => [c.id, c.name]),
    'berlin',
  );
  const first = currentCity();
  if (first) {
    state.map = createMap($('#map'), { center: first.service_area.center, onPick: onMapPick });
  }
  onCityChange();
  select.addEventListener('change', onCityChange);
  for (const radio of document.querySelectorAll('input[name="product"]')) radio.addEventListener('change', onProductChange);
  for (const button of document.querySelectorAll('[data-pick]')) {
    button.addEventListener('click', () => {
      const which = button.getAttribute('data-pick') === 'dropoff' ? 'dropoff' : 'pickup';
      state.picking = which;
      $('#picking').textContent = t('quote.picking', { what: t(`quote.${which}`) });
    });
  }
  wirePlaceInput('pickup');
  wirePlaceInput('dropoff');
  $('#quote-form').addEventListener('submit', submitQuote);
  $('#book-form').addEventListener('submit', submitBooking);
  $('#guest').addEventListener('change', () => {
    $('#guest-fields').hidden = !(/** @type {HTMLInputElement} */ ($('#guest')).checked);
  });
  $('#signup-form').addEventListener('submit', submitSignUp);
  $('#login-form').addEventListener('submit', submitLogIn);
  $('#logout').addEventListener('click', logOut);
  $('#cancel-ask').addEventListener('click', askCancel);
  $('#cancel-keep').addEventListener('click', () => {
    resetCancel();
    $('#cancel-ask').hidden = false;
  });
  $('#cancel-form').addEventListener('submit', confirmCancel);
  window.addEventListener('hashchange', route);
  renderAccount();
  await route();
  document.body.dataset.ready = 'true';
}

start();

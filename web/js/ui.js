// Small DOM helpers shared by both pages. Text goes in as text (never as HTML), so nothing the
// API or a user wrote can run as markup.

import { problemText, t } from './i18n.js';

/**
 * Builds an element: `h('button', {type: 'button', onclick: fn}, 'Text', child)`.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = String(value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
  return el;
}

/**
 * @template {Element} [T=HTMLElement]
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return /** @type {T} */ (el);
}

/**
 * The control of a form whose `data-field` names the API field (or its own name is it).
 * @param {HTMLFormElement} form
 * @param {string} field
 * @returns {HTMLElement | null}
 */
function controlFor(form, field) {
  return (
    form.querySelector(`[data-field~="${CSS.escape(field)}"]`) ??
    form.querySelector(`[name="${CSS.escape(field)}"]`)
  );
}

/** @param {HTMLFormElement} form */
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  }
  const general = form.querySelector('.form-error');
  if (general) general.textContent = '';
}

let errorCount = 0;

/**
 * Shows `message` next to the form's control for `field` (linked by aria-describedby and
 * focused); without such a control, in the form's general error line.
 * @param {HTMLFormElement} form
 * @param {string | null} field
 * @param {string} message
 */
export function showError(form, field, message) {
  const control = field ? controlFor(form, field) : null;
  if (!control) {
    const general = form.querySelector('.form-error');
    if (general) general.textContent = message;
    return;
  }
  const id = `error-${++errorCount}`;
  const note = h('p', { class: 'field-error', id, role: 'alert' }, message);
  const anchor = control.closest('.field') ?? control;
  anchor.append(note);
  control.setAttribute('aria-invalid', 'true');
  control.setAttribute('aria-describedby', id);
  if (control instanceof HTMLElement) control.focus();
}

/**
 * Shows an API problem at its field: the field the server named, else the one its code is
 * about on this form (`codeFields`), else in the general line.
 * @param {HTMLFormElement} form
 * @param {any} problem
 * @param {Record<string, string>} [codeFields]
 */
export function showProblem(form, problem, codeFields = {}) {
  const field = problem?.field ?? codeFields[problem?.code] ?? null;
  showError(form, field, problemText(problem ?? {}));
}

/**
 * Fills a `<select>` with options.
 * @param {HTMLSelectElement} select
 * @param {Array<[string, string]>} options value, label
 * @param {string} [selected]
 */
export function fillSelect(select, options, selected) {
  select.replaceChildren(
    ...options.map(([value, label]) => h('option', { value, selected: value === selected }, label)),
  );
}

/**
 * Announces a message to screen readers and shows it in the page's status line.
 * @param {string} message
 */
export function announce(message) {
  const status = document.getElementById('status');
  if (status) status.textContent = message;
}

/** @param {string} state */
export function stateBadge(state) {
  return h('span', { class: `badge state-${state}`, 'data-state': state }, t(`state.${state}`));
}

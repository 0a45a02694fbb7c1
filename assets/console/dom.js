// Building the page from data. Text goes in as text (textContent or text nodes), never as
// markup, so whatever a user typed shows as typed and runs nothing.

/** h('button', {class: 'x', onclick: fn, 'aria-label': 'Close'}, 'text', child, [more]) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'selected') {
      el[key] = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A labelled form field. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('small', { class: 'muted' }, hint) : null);
}

/** Shows `text` with every case-insensitive occurrence of the query's words marked. */
export function highlight(text, query) {
  const words = (query || '').toLowerCase().split(/\s+/).filter((w) => w.length > 1);
  if (!text || words.length === 0) return document.createTextNode(text || '');
  const frag = document.createDocumentFragment();
  const lower = text.toLowerCase();
  let at = 0;
  while (at < text.length) {
    let next = -1;
    let len = 0;
    for (const w of words) {
      const i = lower.indexOf(w, at);
      if (i !== -1 && (next === -1 || i < next)) { next = i; len = w.length; }
    }
    if (next === -1) break;
    frag.appendChild(document.createTextNode(text.slice(at, next)));
    frag.appendChild(h('mark', {}, text.slice(next, next + len)));
    at = next + len;
  }
  frag.appendChild(document.createTextNode(text.slice(at)));
  return frag;
}

export function fmtDate(iso, withTime = false) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return withTime ? d.toLocaleString() : d.toLocaleDateString();
}

let toastTimer = null;
/** A short message in the live region (read out by screen readers). */
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.dataset.kind = kind;
  el.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('show'), 4000);
}

/** The message of an error to show a person. */
export function errorText(err) {
  if (err && err.fields && err.fields.length) {
    return err.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  }
  return (err && err.message) || 'Something went wrong';
}

export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, errorText(err));
}

// Paths to views. The server knows the same pages (src/http/console/pages.rs) and answers 404
// for the rest; here an unknown path draws the "not found" page.

const routes = [];
let root = null;
let leaving = [];
let notFound = null;

/** route('/app/p/:id', view): `view(ctx)` draws into ctx.root; ctx.params has `:id`. */
export function route(pattern, view) {
  const names = [];
  const source = pattern.replace(/:[a-z_]+/g, (m) => { names.push(m.slice(1)); return '([^/]+)'; });
  routes.push({ re: new RegExp(`^${source}/?$`), names, view });
}

export function setNotFound(view) { notFound = view; }

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

/** Runs `fn` when the current page is left (close sockets, timers). */
export function onLeave(fn) { leaving.push(fn); }

export async function render() {
  for (const fn of leaving.splice(0)) {
    try { fn(); } catch { /* a failed cleanup must not stop the next page */ }
  }
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    const params = {};
    r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
    await r.view({ params, query, root });
    return;
  }
  if (notFound) await notFound({ params: {}, query, root });
}

export function start(el) {
  root = el;
  window.addEventListener('popstate', render);
  // Same-page links navigate without a reload.
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a[href^="/app"]');
    if (!a || a.target || a.hasAttribute('download') || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(a.getAttribute('href'));
  });
  return render();
}

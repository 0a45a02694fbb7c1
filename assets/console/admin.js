// The operator's pages: sign in with the tenant's secret key (exchanged for a short-lived admin
// session), then users, keys, jobs, webhooks, billing and health.

import { admin, adminSignIn, adminSignOut, all, del, get, post } from './api.js';
import { errorBox, errorText, field, fmtDate, h, mount, toast } from './dom.js';
import { navigate } from './router.js';

const SECTIONS = [['jobs', 'Jobs'], ['users', 'Users']];

async function operatorSignIn({ root }, shell) {
  document.title = 'Operator sign-in · Kanri';
  const key = h('input', { type: 'password', name: 'secret_key', required: true, autocomplete: 'off', maxlength: 200 });
  const status = h('div');
  mount(root, h('form', {
    class: 'card narrow',
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        await adminSignIn(key.value.trim());
        shell.redraw();
        navigate('/app/admin/jobs', { replace: true });
      } catch (err) { mount(status, errorBox(err)); }
    },
  }, h('h1', {}, 'Operator sign-in'), field('Secret key', key, 'sk_live_…; exchanged for a 30-minute admin session'), status,
  h('button', { class: 'primary', type: 'submit' }, 'Sign in')));
}

function nav(current) {
  return h('nav', { class: 'admin-nav', 'aria-label': 'Admin' },
    SECTIONS.map(([id, label]) => h('a', { href: `/app/admin/${id}`, 'aria-current': id === current ? 'page' : null }, label)),
    h('button', { class: 'link', onclick: async () => { await adminSignOut().catch(() => {}); navigate('/app/operator'); } }, 'Leave admin'));
}

const A = { admin: true };

async function jobsSection(body) {
  const [stats, dead] = await Promise.all([
    get('/v1/admin/jobs/stats', A),
    get('/v1/admin/jobs?state=dead&limit=100', A),
  ]);
  const redraw = () => jobsSection(body);
  const rows = (dead.items || []).map((j) => h('tr', {},
    h('td', {}, j.kind), h('td', {}, String(j.attempts)), h('td', { class: 'pre' }, j.last_error || ''),
    h('td', {}, h('button', {
      onclick: async () => {
        try { await post(`/v1/admin/jobs/${encodeURIComponent(j.id)}/retry`, {}, A); toast('Queued again'); redraw(); } catch (err) { toast(errorText(err), 'error'); }
      },
    }, 'Retry'), ' ', h('button', {
      onclick: async () => {
        try { await post(`/v1/admin/jobs/${encodeURIComponent(j.id)}/cancel`, {}, A); redraw(); } catch (err) { toast(errorText(err), 'error'); }
      },
    }, 'Cancel'))));
  mount(body, h('h2', {}, 'Jobs by kind and state'),
    h('pre', { class: 'pre' }, JSON.stringify(stats, null, 2)),
    h('h2', {}, 'Dead jobs'),
    rows.length === 0 ? h('p', { class: 'muted' }, 'No dead jobs.') :
      h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['Kind', 'Attempts', 'Last error', ''].map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows)));
}

async function usersSection(body) {
  const users = await all('/v1/admin/users', A);
  const redraw = () => usersSection(body);
  const email = h('input', { type: 'email', required: true, maxlength: 254 });
  const name = h('input', { type: 'text', required: true, maxlength: 200 });
  const status = h('div');
  mount(body, h('h2', {}, 'Users'),
    h('table', { class: 'list' }, h('thead', {}, h('tr', {}, ['Name', 'Email', 'Created', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, users.map((u) => h('tr', {}, h('td', {}, u.name), h('td', {}, u.email), h('td', {}, fmtDate(u.created_at)),
        h('td', {}, h('button', {
          class: 'danger',
          onclick: async () => {
            if (!confirm(`Delete ${u.email}?`)) return;
            try { await del(`/v1/admin/users/${encodeURIComponent(u.id)}`, A); redraw(); } catch (err) { toast(errorText(err), 'error'); }
          },
        }, 'Delete')))))),
    h('form', {
      class: 'card inline',
      onsubmit: async (e) => {
        e.preventDefault();
        try { await post('/v1/admin/users', { email: email.value, name: name.value }, A); redraw(); } catch (err) { mount(status, errorBox(err)); }
      },
    }, h('h2', {}, 'New user'), field('Email', email), field('Name', name), status, h('button', { class: 'primary', type: 'submit' }, 'Create user')));
}

const VIEWS = { jobs: jobsSection, users: usersSection };

async function adminPage({ root, params }, shell) {
  const section = params.section || 'jobs';
  if (!admin.tenantId || !VIEWS[section]) { shell.notFound({ root }); return; }
  document.title = `Admin · ${section} · Kanri`;
  const body = h('div', { class: 'admin-body' });
  mount(root, h('section', { class: 'page' }, h('h1', {}, 'Admin'), nav(section), body));
  try { await VIEWS[section](body); } catch (err) { mount(body, errorBox(err)); }
}

export function register(route, { shell }) {
  route('/app/operator', (ctx) => operatorSignIn(ctx, shell));
  route('/app/admin', (ctx) => adminPage(ctx, shell));
  route('/app/admin/:section', (ctx) => adminPage(ctx, shell));
}

// The operator's pages: sign in with the tenant's secret key (exchanged for a short-lived admin
// session), then jobs, users, keys, webhooks, billing and health. Every call carries the admin
// session's CSRF token; the server answers these routes only to the operator.

import { admin, adminSignIn, adminSignOut, all, del, get, post, session } from './api.js';
import { errorBox, errorText, field, fmtDate, h, mount, toast } from './dom.js';
import { navigate } from './router.js';

const SECTIONS = [['jobs', 'Jobs'], ['users', 'Users'], ['keys', 'API keys'], ['webhooks', 'Webhooks'],
  ['billing', 'Plans & usage'], ['health', 'Health']];
const A = { admin: true };
const JOB_STATES = ['queued', 'scheduled', 'running', 'dead'];

async function operatorSignIn({ root }, shell) {
  document.title = 'Operator sign-in · Kanri';
  const key = h('input', { type: 'password', name: 'secret_key', required: true, autocomplete: 'off', maxlength: 200 });
  const status = h('div');
  const enter = async (secretKey) => {
    try {
      await adminSignIn(secretKey);
      shell.redraw();
      navigate('/app/admin/jobs', { replace: true });
    } catch (err) { mount(status, errorBox(err)); }
  };
  // In single-tenant mode an operator named in KANRI_OPERATOR_EMAILS may use their own sign-in.
  const asMember = session.user ? h('div', { class: 'or' },
    h('p', { class: 'muted' }, 'Or, if this server names you as an operator:'),
    h('button', { type: 'button', onclick: () => enter(null) }, `Continue as ${session.user.email}`)) : null;
  mount(root, h('form', {
    class: 'card narrow',
    onsubmit: (e) => { e.preventDefault(); enter(key.value.trim()); },
  }, h('h1', {}, 'Operator sign-in'), field('Secret key', key, 'sk_live_…; exchanged for a 30-minute admin session'), status,
  h('button', { class: 'primary', type: 'submit' }, 'Sign in'), asMember));
}

function nav(current) {
  return h('nav', { class: 'admin-nav', 'aria-label': 'Admin' },
    SECTIONS.map(([id, label]) => h('a', { href: `/app/admin/${id}`, 'aria-current': id === current ? 'page' : null }, label)),
    h('button', { class: 'link', onclick: async () => { await adminSignOut().catch(() => {}); navigate('/app/operator'); } }, 'Leave admin'));
}

/** A table with a header row; `rows` are arrays of cells. */
function table(headers, rows, label) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'list', 'aria-label': label },
    h('thead', {}, h('tr', {}, headers.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
}

/** A button that runs `action`, shows failures as a toast and redraws on success. */
function actionButton(label, action, redraw, props = {}) {
  return h('button', {
    ...props,
    onclick: async (e) => {
      e.target.disabled = true;
      try { const note = await action(); if (note) toast(note); await redraw(); } catch (err) { toast(errorText(err), 'error'); e.target.disabled = false; }
    },
  }, label);
}

async function jobsSection(body, query) {
  const state = JOB_STATES.includes(query.get('state')) ? query.get('state') : 'dead';
  const [stats, jobs] = await Promise.all([
    get('/v1/admin/jobs/stats', A),
    get(`/v1/admin/jobs?state=${state}&limit=100`, A),
  ]);
  const redraw = () => jobsSection(body, query);
  const kinds = Object.entries(stats.by_kind || {});
  const byKind = kinds.length === 0 ? h('p', { class: 'muted' }, 'No unfinished or dead jobs.')
    : table(['Kind', ...JOB_STATES], kinds.map(([kind, counts]) => [kind, ...JOB_STATES.map((s) => String(counts[s] || 0))]), 'Jobs by kind');
  const picker = h('div', { class: 'tabs', role: 'group', 'aria-label': 'Job state' }, JOB_STATES.map((s) =>
    h('a', { href: `/app/admin/jobs?state=${s}`, 'aria-current': s === state ? 'page' : null }, `${s} (${(stats.depth || {})[s] || 0})`)));
  const rows = (jobs.items || []).map((j) => [
    j.kind, String(j.attempts), fmtDate(j.run_at, true), h('span', { class: 'pre' }, j.last_error || ''),
    h('span', { class: 'actions' },
      (j.state === 'dead' || j.state === 'cancelled') ? actionButton('Retry', () => post(`/v1/admin/jobs/${encodeURIComponent(j.id)}/retry`, {}, A).then(() => 'Queued again'), redraw, { 'aria-label': `Retry ${j.kind} job` }) : null,
      (j.state === 'queued' || j.state === 'scheduled') ? actionButton('Cancel', () => post(`/v1/admin/jobs/${encodeURIComponent(j.id)}/cancel`, {}, A).then(() => 'Cancelled'), redraw, { 'aria-label': `Cancel ${j.kind} job` }) : null),
  ]);
  mount(body, h('h2', {}, 'Jobs by kind'), byKind,
    h('h2', {}, 'Jobs'), picker,
    rows.length === 0 ? h('p', { class: 'muted' }, `No ${state} jobs.`)
      : table(['Kind', 'Attempts', 'Runs at', 'Last error', ''], rows, `${state} jobs`),
    state === 'dead' && rows.length > 0 ? actionButton('Retry all dead jobs', () => post('/v1/admin/jobs/retry-dead', {}, A).then((r) => `${r.requeued} queued again`), redraw) : null);
}

async function usersSection(body) {
  const users = await all('/v1/admin/users', A);
  const redraw = () => usersSection(body);
  const email = h('input', { type: 'email', required: true, maxlength: 254 });
  const name = h('input', { type: 'text', required: true, maxlength: 200 });
  const status = h('div');
  mount(body, h('h2', {}, 'Users'),
    table(['Name', 'Email', 'Created', ''], users.map((u) => [u.name, u.email, fmtDate(u.created_at),
      actionButton('Delete', async () => {
        if (!confirm(`Delete ${u.email}?`)) return null;
        await del(`/v1/admin/users/${encodeURIComponent(u.id)}`, A);
        return 'Deleted';
      }, redraw, { class: 'danger', 'aria-label': `Delete ${u.email}` })]), 'Users'),
    h('form', {
      class: 'card inline',
      onsubmit: async (e) => {
        e.preventDefault();
        try { await post('/v1/admin/users', { email: email.value, name: name.value }, A); redraw(); } catch (err) { mount(status, errorBox(err)); }
      },
    }, h('h2', {}, 'New user'), field('Email', email), field('Name', name), status, h('button', { class: 'primary', type: 'submit' }, 'Create user')));
}

async function keysSection(body, _query, shown) {
  const keys = await all('/v1/admin/keys', A);
  const redraw = (created) => keysSection(body, _query, created);
  const name = h('input', { type: 'text', required: true, maxlength: 100 });
  const kind = h('select', {}, h('option', { value: 'secret' }, 'Secret (server side)'), h('option', { value: 'publishable' }, 'Publishable (browser)'));
  const status = h('div');
  const reveal = shown ? h('div', { class: 'card reveal', role: 'status' },
    h('p', {}, h('strong', {}, 'Copy this key now: it is not shown again.')),
    h('code', { class: 'pre', 'data-new-key': '' }, shown)) : null;
  const rows = keys.map((k) => [k.name, k.kind, h('code', {}, k.hint), fmtDate(k.created_at),
    k.last_used_at ? fmtDate(k.last_used_at, true) : 'never',
    k.revoked_at ? `revoked ${fmtDate(k.revoked_at)}` : 'active',
    k.revoked_at ? '' : actionButton('Revoke', async () => {
      if (!confirm(`Revoke the key “${k.name}” (${k.hint})? Requests with it fail at once.`)) return null;
      await del(`/v1/admin/keys/${encodeURIComponent(k.id)}`, A);
      return 'Revoked';
    }, () => redraw(null), { class: 'danger', 'aria-label': `Revoke ${k.name} (${k.hint})` })]);
  mount(body, h('h2', {}, 'API keys'), reveal,
    table(['Name', 'Kind', 'Key', 'Created', 'Last used', 'State', ''], rows, 'API keys'),
    h('form', {
      class: 'card inline',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const created = await post('/v1/admin/keys', { kind: kind.value, name: name.value }, A);
          await redraw(created.api_key);
        } catch (err) { mount(status, errorBox(err)); }
      },
    }, h('h2', {}, 'New key'), field('Name', name, 'What it is for'), field('Kind', kind), status,
    h('button', { class: 'primary', type: 'submit' }, 'Create key')));
}

async function webhooksSection(body, query) {
  const endpoints = await all('/v1/admin/webhooks', A);
  const open = query.get('endpoint');
  const rows = endpoints.map((w) => [h('span', { class: 'pre' }, w.url), w.workspace_id, w.events.join(', '),
    w.enabled ? (w.failing_since ? `failing since ${fmtDate(w.failing_since, true)}` : 'enabled') : 'disabled',
    h('a', { href: `/app/admin/webhooks?endpoint=${encodeURIComponent(w.id)}` }, 'Delivery log')]);
  const log = h('section', { 'aria-label': 'Delivery log' });
  mount(body, h('h2', {}, 'Outgoing webhooks'),
    rows.length === 0 ? h('p', { class: 'muted' }, 'No workspace has a webhook endpoint.')
      : table(['URL', 'Workspace', 'Events', 'State', ''], rows, 'Webhook endpoints'), log);
  if (open && endpoints.some((w) => w.id === open)) await deliveryLog(log, open);
}

async function deliveryLog(el, endpointId) {
  const base = `/v1/admin/webhooks/${encodeURIComponent(endpointId)}/deliveries`;
  const page = await get(`${base}?limit=50`, A);
  const redraw = () => deliveryLog(el, endpointId);
  const rows = (page.items || []).map((d) => {
    const last = d.attempts[d.attempts.length - 1];
    return [d.event_type, d.status, String(d.attempts.length),
      last ? (last.status_code ? `HTTP ${last.status_code}` : (last.error || '')) : '',
      fmtDate(d.created_at, true),
      actionButton('Retry', () => post(`${base}/${encodeURIComponent(d.id)}/retry`, {}, A).then(() => 'Sending again'), redraw, { 'aria-label': `Retry ${d.event_type} delivery` })];
  });
  mount(el, h('h2', {}, 'Delivery log'),
    rows.length === 0 ? h('p', { class: 'muted' }, 'Nothing sent yet.')
      : table(['Event', 'Status', 'Attempts', 'Last answer', 'Created', ''], rows, 'Deliveries'));
}

const limit = (n) => (n === null || n === undefined ? '∞' : String(n));
const used = (u) => `${u.used} / ${limit(u.limit)}`;
function bytes(n) {
  if (n === null || n === undefined) return '∞';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

async function billingSection(body) {
  const [plans, workspaces] = await Promise.all([all('/v1/plans', A), all('/v1/admin/workspaces', A)]);
  mount(body, h('h2', {}, 'Plans'),
    table(['Key', 'Name', 'Projects', 'Members', 'Storage', 'API calls / month', 'Rate / min', 'Default'], plans.map((p) => [
      p.key, p.name, limit(p.limits.projects), limit(p.limits.members), bytes(p.limits.storage_bytes),
      limit(p.limits.api_calls_per_month), limit(p.limits.rate_limit_per_minute), p.is_default ? 'yes' : '']), 'Plans'),
    h('h2', {}, 'Workspaces'),
    workspaces.length === 0 ? h('p', { class: 'muted' }, 'No workspaces yet.')
      : table(['Workspace', 'Plan', 'Status', 'Projects', 'Members', 'Storage', 'API calls this period'], workspaces.map((w) => [
        w.workspace.name, w.subscription.plan.name, w.subscription.status, used(w.usage.projects), used(w.usage.members),
        `${bytes(w.usage.storage_bytes.used)} / ${bytes(w.usage.storage_bytes.limit)}`, used(w.usage.api_calls)]), 'Workspaces and usage'));
}

function yesNo(ok) { return h('span', { class: ok ? 'ok' : 'bad' }, ok ? 'OK' : 'Unreachable'); }

async function healthSection(body) {
  const hl = await get('/v1/admin/health', A);
  const m = hl.metrics || {};
  const figure = (label, value) => h('div', { class: 'figure' }, h('dt', {}, label), h('dd', {}, value));
  mount(body, h('h2', {}, `Health · version ${hl.version}`),
    h('dl', { class: 'figures' },
      figure('Database', [yesNo(hl.database.reachable), ` ${hl.database.engine}, ${hl.database.latency_ms.toFixed(1)} ms, ${hl.database.connections_in_use} busy / ${hl.database.connections_idle} idle`]),
      figure('Cache', [yesNo(hl.cache.available), ` ${hl.cache.backend}, ${hl.cache.hits} hits / ${hl.cache.misses} misses`]),
      figure('Rate limiter', [yesNo(!hl.rate_limiter.degraded), ` ${hl.rate_limiter.backend}`]),
      figure('Storage', [yesNo(hl.storage.reachable), ` ${hl.storage.backend}`, hl.storage.error ? ` — ${hl.storage.error}` : '']),
      figure('Mail', hl.mail.transport),
      figure('Realtime connections', String(hl.realtime.connections)),
      figure('Jobs', Object.entries(hl.jobs).map(([s, n]) => `${s} ${n}`).join(', ') || 'none'),
      figure('Requests served', `${m.http_requests_total || 0} (${m.http_server_errors || 0} server errors)`),
      figure('Job runs', `${m.job_runs_total || 0} (${m.job_failures_total || 0} failed)`),
      figure('Webhook deliveries', String(m.webhook_deliveries_total || 0)),
      figure('Rate-limited requests', String(m.rate_limited_requests_total || 0)),
      figure('Memory (RSS)', bytes(m.process_resident_memory_bytes || 0)),
      figure('CPU time', `${(m.process_cpu_seconds_total || 0).toFixed(1)} s`)));
}

const VIEWS = { jobs: jobsSection, users: usersSection, keys: keysSection, webhooks: webhooksSection, billing: billingSection, health: healthSection };

async function adminPage({ root, params, query }, shell) {
  const section = params.section || 'jobs';
  if (!admin.tenantId || !VIEWS[section]) { shell.notFound({ root }); return; }
  document.title = `Admin · ${section} · Kanri`;
  const body = h('div', { class: 'admin-body' });
  mount(root, h('section', { class: 'page' }, h('h1', {}, 'Admin'), nav(section), body));
  try { await VIEWS[section](body, query); } catch (err) { mount(body, errorBox(err)); }
}

export function register(route, { shell }) {
  route('/app/operator', (ctx) => operatorSignIn(ctx, shell));
  route('/app/admin', (ctx) => adminPage(ctx, shell));
  route('/app/admin/:section', (ctx) => adminPage(ctx, shell));
}

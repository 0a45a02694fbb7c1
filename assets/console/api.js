// The JSON API, as the console calls it: same-origin, credentials in HttpOnly cookies the page
// cannot read, and the session's CSRF token on every request that changes something.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.fields = (body && body.details) || [];
  }
}

/** The signed-in member (`null` until `loadSession`). */
export const session = { user: null, tenantId: null, csrf: null };
/** The operator's admin session, when there is one. */
export const admin = { tenantId: null, csrf: null };

const SAFE = new Set(['GET', 'HEAD']);

/**
 * Calls the API and returns the envelope's `data`.
 * `opts.admin` sends the admin session's CSRF token instead of the member's.
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (!SAFE.has(method)) {
    const csrf = opts.admin ? admin.csrf : session.csrf;
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, { message: 'The network is unreachable; try again.' });
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) throw new ApiError(res.status, json);
  return json && Object.prototype.hasOwnProperty.call(json, 'data') ? json.data : json;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body === undefined ? {} : body, opts);
export const patch = (path, body, opts) => api('PATCH', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

/** Every page of a cursor-paged list. */
export async function all(path, opts) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 200; page += 1) {
    const sep = path.includes('?') ? '&' : '?';
    const url = cursor ? `${path}${sep}limit=100&cursor=${encodeURIComponent(cursor)}` : `${path}${sep}limit=100`;
    const data = await get(url, opts);
    items.push(...(data.items || []));
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return items;
}

function adopt(data) {
  session.user = data.user;
  session.tenantId = data.tenant_id;
  session.csrf = data.csrf_token;
  return data.user;
}

/** Reads the cookie session, if any; resolves to the user or null. */
export async function loadSession() {
  const data = await get('/app/api/session');
  if (data) return adopt(data);
  session.user = null;
  session.csrf = null;
  return null;
}

export async function signIn(email, password) {
  return adopt(await post('/app/api/session', { email, password }));
}

/**
 * The second step for an account with two-factor sign-in: the challenge from the first step's
 * `two_factor_required` answer and a code (six digits) or a recovery code.
 */
export async function signInWithCode(challenge, code) {
  const trimmed = code.trim();
  const factor = /^[0-9\s-]+$/.test(trimmed) ? { totp_code: trimmed } : { recovery_code: trimmed };
  return adopt(await post('/app/api/session/two-factor', { challenge, ...factor }));
}

export async function signUp(name, email, password) {
  return adopt(await post('/app/api/register', { name, email, password }));
}

export async function signOut() {
  await api('DELETE', '/app/api/session');
  session.user = null;
  session.csrf = null;
}

export async function loadAdmin() {
  const data = await get('/app/api/admin-session');
  admin.tenantId = data ? data.tenant_id : null;
  admin.csrf = data ? data.csrf_token : null;
  return Boolean(data);
}

/** With the secret key, or (no key) as the signed-in member when they are a named operator. */
export async function adminSignIn(secretKey) {
  const data = await post('/app/api/admin-session', secretKey ? { secret_key: secretKey } : {});
  admin.tenantId = data.tenant_id;
  admin.csrf = data.csrf_token;
}

export async function adminSignOut() {
  await api('DELETE', '/app/api/admin-session', undefined, { admin: true });
  admin.tenantId = null;
  admin.csrf = null;
}

/** Uploads a file as multipart form data, reporting progress (0..1). */
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    if (session.csrf) xhr.setRequestHeader('X-CSRF-Token', session.csrf);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let json = null;
      try { json = JSON.parse(xhr.responseText); } catch { json = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json && json.data);
      else reject(new ApiError(xhr.status, json));
    };
    xhr.onerror = () => reject(new ApiError(0, { message: 'network error' }));
    const form = new FormData();
    form.append('file', file);
    xhr.send(form);
  });
}

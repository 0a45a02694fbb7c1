// Signing in and out, password reset, and answering an invitation.

import { post, session, signIn, signInWithCode, signUp } from './api.js';
import { errorBox, field, h, mount, toast } from './dom.js';
import { navigate } from './router.js';

function safeNext(query) {
  const next = query.get('next') || '/app';
  return next.startsWith('/app') && !next.startsWith('//') ? next : '/app';
}

function form(title, fields, submitLabel, onSubmit, extra) {
  const status = h('div', { class: 'form-status' });
  const button = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const el = h('form', {
    class: 'card narrow',
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      mount(status);
      try {
        await onSubmit();
      } catch (err) {
        mount(status, errorBox(err));
      } finally {
        button.disabled = false;
      }
    },
  }, h('h1', {}, title), fields, status, button, extra);
  return el;
}

const input = (type, name, autocomplete, extra = {}) =>
  h('input', { type, name, autocomplete, required: true, ...extra });

async function signInPage({ root, query }) {
  document.title = 'Sign in · Kanri';
  const email = input('email', 'email', 'username', { maxlength: 254 });
  const password = input('password', 'password', 'current-password', { maxlength: 256 });
  const done = async () => {
    await refresh();
    navigate(safeNext(query), { replace: true });
  };
  mount(root, form('Sign in', [field('Email', email), field('Password', password)], 'Sign in',
    async () => {
      try {
        await signIn(email.value, password.value);
      } catch (err) {
        // The password was right and the account has two-factor sign-in: ask for the code.
        if (err.code !== 'two_factor_required' || !err.fields.challenge) throw err;
        codePage(root, err.fields.challenge, done);
        return;
      }
      await done();
    },
    h('p', { class: 'muted' },
      h('a', { href: `/app/sign-up${location.search}` }, 'Create an account'), ' · ',
      h('a', { href: '/app/forgot' }, 'Forgot your password?'))));
  email.focus();
}

function codePage(root, challenge, done) {
  const code = input('text', 'code', 'one-time-code', { inputmode: 'numeric', maxlength: 24 });
  mount(root, form('Two-factor sign-in',
    [field('Code', code, 'The six digits your authenticator app shows, or a recovery code')],
    'Verify',
    async () => {
      await signInWithCode(challenge, code.value);
      await done();
    },
    h('p', { class: 'muted' }, h('a', { href: `/app/sign-in${location.search}` }, 'Start again'))));
  code.focus();
}

async function signUpPage({ root, query }) {
  document.title = 'Sign up · Kanri';
  const name = input('text', 'name', 'name', { maxlength: 200 });
  const email = input('email', 'email', 'username', { maxlength: 254, value: query.get('email') || '' });
  const password = input('password', 'password', 'new-password', { minlength: 8, maxlength: 256 });
  mount(root, form('Create your account',
    [field('Name', name), field('Email', email), field('Password', password, '8 characters or more')],
    'Sign up',
    async () => {
      await signUp(name.value, email.value, password.value);
      await refresh();
      navigate(safeNext(query), { replace: true });
    },
    h('p', { class: 'muted' }, 'Have an account? ', h('a', { href: `/app/sign-in${location.search}` }, 'Sign in'))));
  name.focus();
}

async function forgotPage({ root }) {
  document.title = 'Reset your password · Kanri';
  const email = input('email', 'email', 'username', { maxlength: 254 });
  mount(root, form('Reset your password', [field('Email', email)], 'Send the link', async () => {
    await post('/v1/auth/password-reset/request', { email: email.value });
    mount(root, h('section', { class: 'card narrow' }, h('h1', {}, 'Check your email'),
      h('p', {}, 'If an account uses that address, a link to choose a new password is on its way.')));
  }));
}

async function resetPage({ root, query }) {
  document.title = 'Choose a new password · Kanri';
  const token = query.get('token') || '';
  const password = input('password', 'password', 'new-password', { minlength: 8, maxlength: 256 });
  mount(root, form('Choose a new password', [field('New password', password, '8 characters or more')],
    'Set password', async () => {
      await post('/v1/auth/password-reset/complete', { token, password: password.value });
      toast('Password changed. Sign in with the new one.');
      navigate('/app/sign-in', { replace: true });
    }));
}

async function invitationPage({ root, params, query }) {
  document.title = 'Invitation · Kanri';
  const token = query.get('token') || '';
  if (!session.user) {
    const back = `${location.pathname}${location.search}`;
    mount(root, h('section', { class: 'card narrow' },
      h('h1', {}, 'You have been invited to Kanri'),
      h('p', {}, 'Sign in, or create an account with the invited address, to answer.'),
      h('p', {},
        h('a', { class: 'button primary', href: `/app/sign-in?next=${encodeURIComponent(back)}` }, 'Sign in'), ' ',
        h('a', { class: 'button', href: `/app/sign-up?next=${encodeURIComponent(back)}` }, 'Sign up'))));
    return;
  }
  const status = h('div');
  const answer = (verb) => async () => {
    try {
      const result = await post(`/v1/invitations/${encodeURIComponent(params.id)}/${verb}`, { token });
      await refresh();
      if (verb === 'accept') {
        const ws = result && (result.workspace_id || (result.invitation && result.invitation.workspace_id));
        toast('You joined the workspace.');
        navigate(ws ? `/app/w/${encodeURIComponent(ws)}` : '/app', { replace: true });
      } else {
        mount(root, h('section', { class: 'card narrow' }, h('h1', {}, 'Invitation declined')));
      }
    } catch (err) {
      mount(status, errorBox(err));
    }
  };
  mount(root, h('section', { class: 'card narrow' },
    h('h1', {}, 'Join the workspace?'),
    h('p', {}, `Signed in as ${session.user.email}.`),
    status,
    h('p', { class: 'actions' },
      h('button', { class: 'primary', onclick: answer('accept') }, 'Accept'),
      h('button', { onclick: answer('reject') }, 'Decline'))));
}

let shellRef = null;
async function refresh() {
  if (shellRef) await shellRef.refreshWorkspaces();
}

export function register(route, { shell }) {
  shellRef = shell;
  route('/app/sign-in', signInPage);
  route('/app/sign-up', signUpPage);
  route('/app/forgot', forgotPage);
  route('/app/reset', resetPage);
  route('/app/invitations/:id', invitationPage);
}

import type Router from '@koa/router';
import { escapeHtml } from '../../emails/template.js';

/**
 * While APP_URL is unset, invite and reset emails link to this API, which then serves two
 * small pages completing the flow: a form that posts to the existing JSON endpoints. No
 * inline script (the default CSP forbids it) and nothing loaded from elsewhere.
 */
interface AccountPage {
  path: string;
  title: string;
  intro: string;
  endpoint: string;
  fields: { name: string; label: string; type: string; autocomplete: string }[];
  done: string;
}

const PAGES: AccountPage[] = [
  {
    path: '/invite/accept',
    title: 'Accept your invitation',
    intro: 'Choose your name and a password to join the shop.',
    endpoint: '/invites/accept',
    fields: [
      { name: 'name', label: 'Your name', type: 'text', autocomplete: 'name' },
      {
        name: 'password',
        label: 'Password (10–128 characters)',
        type: 'password',
        autocomplete: 'new-password',
      },
    ],
    done: 'Your account is ready. Sign in on the till with your email and this password.',
  },
  {
    path: '/reset-password',
    title: 'Set a new password',
    intro: 'Choose a new password. Every device signed in to your account will be signed out.',
    endpoint: '/auth/password/reset',
    fields: [
      {
        name: 'password',
        label: 'New password (10–128 characters)',
        type: 'password',
        autocomplete: 'new-password',
      },
    ],
    done: 'Your password is changed. Sign in again with the new password.',
  },
];

const SCRIPT_PATH = '/pages/account-form.js';

function renderPage(page: AccountPage, token: string): string {
  const fields = page.fields
    .map(
      (field) => `<label>${escapeHtml(field.label)}<br>
<input name="${field.name}" type="${field.type}" autocomplete="${field.autocomplete}" required${field.type === 'password' ? ' minlength="10" maxlength="128"' : ' maxlength="100"'}></label>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<script src="${SCRIPT_PATH}" defer></script>
</head>
<body style="font-family: system-ui, sans-serif; max-width: 28rem; margin: 2rem auto; line-height: 1.5">
<h1>${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.intro)}</p>
<form method="post" action="${page.endpoint}" data-done="${escapeHtml(page.done)}">
<label>Code from the email<br>
<input name="token" type="text" value="${escapeHtml(token)}" required maxlength="512" autocomplete="off" spellcheck="false"></label>
${fields}
<p><button type="submit">${escapeHtml(page.title)}</button></p>
<p role="status" aria-live="polite"></p>
</form>
</body>
</html>`;
}

// Sends the form as the JSON body the endpoint takes and shows its answer: the problem
// document's detail and field errors, or the page's "done" message.
const SCRIPT = `document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form');
  const status = form.querySelector('[role=status]');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    body.token = String(body.token).replace(/\\s+/g, '');
    status.textContent = 'Sending…';
    try {
      const response = await fetch(form.action, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.ok) {
        form.replaceChildren(Object.assign(document.createElement('p'), { textContent: form.dataset.done }));
        return;
      }
      const problem = await response.json().catch(() => ({}));
      const errors = (problem.errors || []).map((error) => error.path + ': ' + error.message);
      status.textContent = [problem.detail || 'Something went wrong (' + response.status + ')', ...errors].join(' — ');
    } catch {
      status.textContent = 'No connection to the server; try again.';
    }
  });
});
`;

export function mountAccountPages(router: Router): void {
  for (const page of PAGES) {
    router.get(page.path, (ctx) => {
      const token = typeof ctx.query.token === 'string' ? ctx.query.token.slice(0, 512) : '';
      ctx.type = 'text/html; charset=utf-8';
      // The token is a secret: keep it out of caches and out of Referer headers.
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.body = renderPage(page, token);
    });
  }
  router.get(SCRIPT_PATH, (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.body = SCRIPT;
  });
}

// Enlace's DEVELOPMENT sign-in: node's OpenID-certified `oidc-provider` as a small OpenID provider on
// loopback, with one account per demo citizen. It is what `enlace up` and the tests give the portal
// instead of the national digital identity; it is no identity service for real people.
//
// Usage: node provider.mjs CONFIG.json   (the file is written 0600 by ops/signin: it holds secrets)
//   { "port": 4567, "client_id": "...", "client_secret": "...", "redirect_uris": ["..."],
//     "curp_claim": "curp", "accounts": [{"login": "...", "password": "...", "curp": "...", "name": "..."}] }
//
// What is oidc-provider's, unchanged: discovery, the authorization code flow with PKCE, ID tokens
// signed with the RS256 key made here at start, token and JWKS endpoints. What is ours: the login
// page (a login and a password checked against the accounts above) and consent given on signing in
// (the portal is the only client).

import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const curpClaim = config.curp_claim || 'curp';
const accounts = new Map(config.accounts.map((account, index) => [account.login, { ...account, sub: `dev-${index + 1}` }]));
const bySub = new Map([...accounts.values()].map((account) => [account.sub, account]));
const MAX_FORM_BYTES = 4096;

function digest(text) {
  return createHash('sha256').update(text, 'utf8').digest();
}

// The account a login and password name, or undefined; the password is compared in constant time.
function checkPassword(login, password) {
  const account = accounts.get(login);
  const expected = digest(account ? account.password : 'no such account');
  const ok = timingSafeEqual(expected, digest(password));
  return account && ok ? account : undefined;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid, message) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Development sign-in</title></head>
<body style="font: 16px system-ui, sans-serif; max-width: 34em; margin: 2em auto">
<p id="development-banner" style="background: #fff3cd; border: 1px solid #d4a200; padding: .6em">
<strong>Development sign-in.</strong> Accounts here are the demo's invented citizens; this is not the
national digital identity and must never hold real people.</p>
<h1>Sign in</h1>
${message ? `<p id="sign-in-error" role="alert" style="color: #b00020">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label>Login (your CURP)<br><input id="login" name="login" autocomplete="username" required></label><br><br>
<label>Password<br><input id="password" name="password" type="password" autocomplete="current-password" required></label><br><br>
<button id="sign-in" type="submit">Sign in</button>
</form></body></html>`;
}

async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', curpClaim, 'profile'],
  claims: { openid: ['sub'], [curpClaim]: [curpClaim], profile: ['name'] },
  // The CURP goes in the ID token itself (the portal reads it there), not only from userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = bySub.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, [curpClaim]: account.curp, name: account.name };
      },
    };
  },
  // The portal is the one client: signing in is consenting to give it the CURP and name asked for.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (grant) return grant;
    }
    if (!ctx.oidc.session.accountId) return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(`openid ${curpClaim} profile`);
    await grant.save();
    return grant;
  },
});

// The login form's answer redirects on to the portal: form-action must allow the portal's origin too.
const formTargets = ["'self'", ...new Set(config.redirect_uris.map((uri) => new URL(uri).origin))].join(' ');
const loginPolicy = `default-src 'none'; style-src 'unsafe-inline'; form-action ${formTargets}; frame-ancestors 'none'`;

provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', loginPolicy);
  ctx.set('X-Frame-Options', 'DENY');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = '<!doctype html><p>This sign-in has expired or is unknown: start again from the portal.</p>';
    return undefined;
  }
  if (details.prompt.name !== 'login') {
    ctx.status = 400;
    ctx.body = `unexpected prompt ${details.prompt.name}`;
    return undefined;
  }
  if (ctx.method === 'GET' && !match[2]) {
    ctx.type = 'html';
    ctx.body = loginPage(details.uid, '');
    return undefined;
  }
  if (ctx.method !== 'POST' || !match[2]) {
    ctx.status = 405;
    return undefined;
  }
  const form = await readForm(ctx.req);
  const account = form && checkPassword(form.get('login') || '', form.get('password') || '');
  if (!account) {
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = loginPage(details.uid, 'Wrong login or password.');
    return undefined;
  }
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  return undefined;
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`development sign-in (oidc-provider) on ${issuer} with ${accounts.size} account(s)`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}

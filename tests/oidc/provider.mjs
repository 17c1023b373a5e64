// A real OpenID Connect provider for the staff console's tests: the certified `oidc-provider`
// package (pinned in package.json and its lock file), on 127.0.0.1, with what a company's
// identity provider has: staff accounts with groups, sign-in that records how the person proved
// themselves (`amr`), dynamic client registration (each test registers its own redirect URI),
// PKCE, state and nonce. Started by scripts/services.sh: `node provider.mjs PORT`.
//
// Test harness (not part of any real provider):
//   POST /_harness/accounts {"sub", "email", "name", "preferred_username", "groups": [...],
//                            "amr": ["pwd", "otp"]}   adds or replaces a staff account
//   POST /_harness/accounts/remove {"sub"}  removes one: its refresh tokens are refused from then on
//   GET  /interaction/:uid          the sign-in page: a form with one field, `login` (the sub)
//   POST /interaction/:uid/login    signs that account in, with its `amr`, and goes on
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
if (!port) {
  console.error('usage: node provider.mjs PORT');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const accounts = new Map();

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256', kid: 'test-key' };

const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  cookies: { keys: ['test-cookie-key-not-secret'] },
  features: {
    registration: { enabled: true },
    devInteractions: { enabled: false },
  },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
    // How the person signed in (RFC 8176), as the login recorded it, in every ID token.
    openid: ['sub', 'amr'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // The requested scopes' claims go into the ID token too, as most company providers do.
  conformIdTokenClaims: false,
  // A client allowed the refresh_token grant gets a refresh token with every code, as from
  // Cognito and Keycloak (no offline_access scope asked); each use rotates it, as Okta and
  // Auth0 do with rotation on: a used one redeemed again revokes the grant.
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  rotateRefreshToken: () => true,
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: account.email,
          email_verified: true,
          name: account.name,
          preferred_username: account.preferred_username,
          groups: account.groups || [],
        };
      },
    };
  },
  // First-party: no consent screen; every requested scope is granted.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600 },
});

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/_harness/accounts' && ctx.method === 'POST') {
    const account = JSON.parse(await body(ctx.req));
    accounts.set(account.sub, account);
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/_harness/accounts/remove' && ctx.method === 'POST') {
    accounts.delete(JSON.parse(await body(ctx.req)).sub);
    ctx.status = 204;
    return;
  }
  const interaction = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (interaction) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET' && !interaction[2]) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>`
        + `<body><form method="post" action="/interaction/${details.uid}/login">`
        + `<label for="login">Staff account</label><input id="login" name="login">`
        + `<button type="submit">Sign in</button></form></body></html>`;
      return;
    }
    if (ctx.method === 'POST' && interaction[2]) {
      const login = new URLSearchParams(await body(ctx.req)).get('login') || '';
      const account = accounts.get(login);
      const result = account
        ? { login: { accountId: login, amr: account.amr || ['pwd'] } }
        : { error: 'access_denied', error_description: 'no such staff account' };
      const to = await provider.interactionResult(ctx.req, ctx.res, result, {
        mergeWithLastSubmission: false,
      });
      ctx.redirect(to);
      return;
    }
  }
  await next();
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ${issuer}`);
});

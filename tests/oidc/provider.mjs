// A real OpenID provider for the OIDC tests: npm `oidc-provider` (panva), installed by
// scripts/ensure_oidc_provider.sh; OIDC_PROVIDER_MODULES names its node_modules folder.
//
// Environment: PORT (listen on 127.0.0.1:PORT; the issuer is http://127.0.0.1:PORT),
// REDIRECT_URI (the JITEA callback), AUDIENCE (JITEA's resource indicator / token audience).
//
// It has: a confidential client `jitea-web` (secret `jitea-web-secret`, client_secret_basic,
// code flow, PKCE required), a service client `svc-deploy` (secret `svc-deploy-secret`,
// client_credentials), accounts with preferred_username, email, department and groups, its
// development login and consent pages, and JWT access tokens for the resource indicators
// AUDIENCE and `urn:other-api`. `POST /__test/rotate` replaces the signing key (the old one
// stays published next to the new one, as a real rotation does) and answers the new `kid`.
// `POST /__test/tamper_next_id_token` with a JSON object of claims makes the next token
// response carry an ID token with those claims overwritten, re-signed with the provider's key
// (or, with `"_foreign_key": true`, with a key the provider does not publish): a wrong nonce,
// an expired or foreign token, exactly as a broken or hostile provider would send them.
// Prints `READY <issuer>` on stdout once listening.
import http from 'node:http';
import crypto from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const modules = process.env.OIDC_PROVIDER_MODULES;
if (!modules) {
  console.error('OIDC_PROVIDER_MODULES (the node_modules folder of oidc-provider) is required');
  process.exit(2);
}
const { default: Provider, errors } = await import(
  pathToFileURL(path.join(modules, 'oidc-provider', 'lib', 'index.js')).href
);

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = process.env.REDIRECT_URI;
const audience = process.env.AUDIENCE;
// CONFORM_ID_TOKEN_CLAIMS=1: the ID token of the code flow carries only `sub` (and what the
// protocol needs); every other claim is only at the UserInfo endpoint, as many providers do.
const conformIdTokenClaims = process.env.CONFORM_ID_TOKEN_CLAIMS === '1';
if (!port || !redirectUri || !audience) {
  console.error('PORT, REDIRECT_URI and AUDIENCE are required');
  process.exit(2);
}

// accountId (what the development login form takes) -> claims.
const accounts = {
  'u-1001': { preferred_username: 'alice', name: 'Alice Example', given_name: 'Alice', family_name: 'Example', email: 'alice@example.test', department: 'Engineering', groups: ['eng'] },
  'u-1002': { preferred_username: 'bob', name: 'Bob Boss', email: 'bob@example.test', department: 'Operations', groups: ['ops', 'jitea-admins'] },
  'u-1003': { preferred_username: 'carol', name: 'Carol Gone', email: 'carol@example.test', department: 'Finance', groups: [] },
  'u-1005': { preferred_username: 'root', name: 'Not The Bootstrap Admin', groups: [] },
  'u-1004': { preferred_username: 'dave', name: 'Dave New', email: 'dave@example.test', department: 'Sales', groups: ['jitea-auditors'] },
};

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `k-${crypto.randomBytes(6).toString('hex')}`, use: 'sig', alg: 'RS256' };
}

let keys = [newKey()];

function build() {
  const p = new Provider(issuer, {
    clients: [
      {
        client_id: 'jitea-web',
        client_secret: 'jitea-web-secret',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: 'svc-deploy',
        client_secret: 'svc-deploy-secret',
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'jitea',
      },
    ],
    jwks: { keys },
    ttl: { ClientCredentials: 600 },
    cookies: { keys: ['jitea-test-provider-cookie-key'] },
    pkce: { required: () => true },
    conformIdTokenClaims,
    claims: {
      openid: ['sub'],
      profile: ['preferred_username', 'name', 'given_name', 'family_name', 'department', 'groups'],
      email: ['email'],
    },
    scopes: ['openid', 'profile', 'email', 'jitea'],
    async findAccount(_ctx, id) {
      const a = accounts[id];
      if (!a) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...a }; } };
    },
    async extraTokenClaims(_ctx, token) {
      const a = token.accountId && accounts[token.accountId];
      return a ? { preferred_username: a.preferred_username } : undefined;
    },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, indicator) {
          if (indicator !== audience && indicator !== 'urn:other-api') throw new errors.InvalidTarget();
          return { scope: 'jitea', audience: indicator, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
  });
  p.on('server_error', (_ctx, err) => console.error('provider server_error', err));
  return p;
}

let provider = build();
let handler = provider.callback();
let tamper = null;

function retoken(idToken, changes) {
  const [h, p] = idToken.split('.');
  const claims = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), ...changes };
  const foreign = claims._foreign_key;
  delete claims._foreign_key;
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const jwk = foreign ? newKey() : keys[0];
  const key = crypto.createPrivateKey({ key: jwk, format: 'jwk' });
  const sig = crypto.sign('sha256', Buffer.from(`${h}.${payload}`), key).toString('base64url');
  return `${h}.${payload}.${sig}`;
}

function tamperTokenResponse(res, changes) {
  const end = res.end.bind(res);
  const chunks = [];
  res.write = (c) => { chunks.push(Buffer.from(c)); return true; };
  res.end = (c, ...rest) => {
    if (c && typeof c !== 'function') chunks.push(Buffer.from(c));
    let body = Buffer.concat(chunks).toString();
    try {
      const j = JSON.parse(body);
      if (j.id_token) {
        j.id_token = retoken(j.id_token, changes);
        body = JSON.stringify(j);
        res.setHeader('content-length', Buffer.byteLength(body));
      }
    } catch (e) {
      console.error('tamper failed', e);
    }
    return end(body);
  };
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/__test/rotate') {
    keys = [newKey(), keys[0]];
    provider = build();
    handler = provider.callback();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kid: keys[0].kid }));
    return;
  }
  if (req.method === 'POST' && req.url === '/__test/tamper_next_id_token') {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      tamper = JSON.parse(body);
      res.writeHead(204);
      res.end();
    });
    return;
  }
  if (tamper && req.method === 'POST' && req.url.startsWith('/token')) {
    tamperTokenResponse(res, tamper);
    tamper = null;
  }
  handler(req, res);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});

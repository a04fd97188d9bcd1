// Identity in the browser: single sign-on through a real OpenID provider's own login and
// consent pages (password sign-in turned off, the bootstrap admin's break-glass form still
// there), the sign-in page's message when the provider sign-in is refused, where users come
// from on the users page, the directory page without a directory, a real directory (slapd):
// dry run, sync, the mass-deactivation guard and "sync anyway", and SCIM tokens
// (create, shown once, used by a provider, revoke).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api, launch, keepScreenshots, checkA11y, freePort, ADMIN } from './harness.mjs';
import { startProvider, startSlapd, person, PEOPLE } from './services.mjs';

let browser;
const stops = [];
const pages = [];

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
  for (const stop of stops.reverse()) stop();
});

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.log(`[browser error] ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.log(`[browser console] ${m.text()}`));
  pages.push(page);
  return page;
}

async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    const dir = await keepScreenshots(`identity-${name.replace(/\W+/g, '-')}`, pages);
    e.message += `\n(screenshots kept in ${dir})`;
    throw e;
  }
}

/** Axe on a JITEA page once its requests have settled. */
async function a11y(page, label) {
  await page.waitForLoadState('networkidle').catch(() => {});
  await checkA11y(page, label);
}

/** The provider's own development login and consent pages, as a person would click them. */
async function signInAtProvider(page, issuer, account) {
  await page.waitForURL((u) => u.href.startsWith(issuer));
  await page.locator('input[name="login"]').fill(account);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** Signs the bootstrap admin in through the break-glass form (password sign-in is off). */
async function breakGlass(page, base) {
  await page.goto(`${base}/login`);
  await page.getByTestId('sso-button').waitFor();
  assert.equal(await page.getByTestId('login-user').isVisible(), false, 'the password form is folded away');
  await page.getByTestId('break-glass').locator('summary').click();
  await a11y(page, 'the sign-in page with the break-glass form open');
  await page.getByTestId('login-user').fill(ADMIN.login);
  await page.getByTestId('login-password').fill(ADMIN.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('nav-dashboard').waitFor({ state: 'attached' });
}

test('single sign-on through the provider, break-glass, user sources, directory not configured, SCIM tokens', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const provider = await startProvider(base);
  stops.push(() => provider.stop());
  const server = await startServer([], {
    port,
    env: { ...provider.env, JITEA_OIDC_NAME: 'Example ID', JITEA_LOCAL_LOGIN: 'false' },
  });
  stops.push(() => server.stop());
  const client = api(server.base);
  const admin = await client.login(ADMIN.login, ADMIN.password); // break-glass works for scripts too
  // carol (u-1003 at the provider) exists in JITEA but is deactivated.
  const carol = await client.call('POST', '/users', admin, { login_name: 'carol', display_name: 'Carol Gone' });
  await client.call('POST', `/users/${carol.id}/deactivate`, admin, {});

  const alice = await newPage();
  await step('the sign-in page offers the provider, not the password form', async () => {
    await alice.goto(`${base}/history`);
    await alice.waitForURL(/\/login\?next=/);
    const button = alice.getByTestId('sso-button');
    await button.waitFor();
    assert.equal(await button.innerText(), 'Sign in with Example ID');
    assert.equal(await alice.getByTestId('login-user').isVisible(), false);
    await a11y(alice, 'the sign-in page with single sign-on');
  });

  await step("alice signs in on the provider's pages and lands where she was going", async () => {
    await alice.getByTestId('sso-button').click();
    await signInAtProvider(alice, provider.issuer, 'u-1001');
    await alice.waitForURL(`${base}/history`);
    await alice.getByTestId('whoami').waitFor({ state: 'attached' });
    assert.match(await alice.getByTestId('whoami').textContent(), /alice \(Alice Example\)/);
    await a11y(alice, 'the history page after single sign-on');
  });

  const carolPage = await newPage();
  await step('a refused provider sign-in is explained on the sign-in page', async () => {
    await carolPage.goto(`${base}/login`);
    await carolPage.getByTestId('sso-button').click();
    await signInAtProvider(carolPage, provider.issuer, 'u-1003');
    await carolPage.waitForURL(`${base}/login?error=oidc_user_inactive`);
    const error = carolPage.getByTestId('sso-error');
    await error.waitFor();
    assert.match(await error.innerText(), /deactivated/);
    assert.equal(await carolPage.getByTestId('whoami').count(), 0, 'not signed in');
    await a11y(carolPage, 'the sign-in page with a single sign-on error');
    // Only codes the server sends are echoed; anything else gets the generic text.
    await carolPage.goto(`${base}/login?error=${encodeURIComponent('<b>injected</b>')}`);
    await error.waitFor();
    assert.doesNotMatch(await error.innerText(), /injected/);
  });

  const root = await newPage();
  await step('the bootstrap admin still signs in with the break-glass password', async () => {
    await breakGlass(root, base);
  });

  await step('the users page says where each user comes from', async () => {
    await root.goto(`${base}/admin/users`);
    const aliceRow = root.locator('[data-testid="user-row"]', { hasText: 'Alice Example' });
    await aliceRow.waitFor();
    assert.equal(await aliceRow.getAttribute('data-source'), 'oidc');
    assert.match(await aliceRow.getByTestId('user-source').innerText(), /single sign-on/);
    assert.equal(await aliceRow.getByTestId('user-external-id').innerText(), 'u-1001');
    assert.match(await aliceRow.getByTestId('user-managed-note').innerText(), /single sign-on/);
    const rootRow = root.locator('[data-testid="user-row"]', { hasText: ADMIN.login }).first();
    assert.match(await rootRow.getByTestId('user-source').innerText(), /local/);
    assert.equal(await rootRow.getByTestId('user-managed-note').count(), 0);
    await a11y(root, 'the users page with sources');
  });

  await step('the directory page says no directory is configured', async () => {
    await root.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Directory' }).click();
    await root.getByTestId('directory-runs').getByTestId('empty').waitFor();
    await a11y(root, 'the directory page');
    await root.getByTestId('directory-dry-run').click();
    await root.getByTestId('directory-not-configured').waitFor();
    assert.match(await root.getByTestId('directory-not-configured').innerText(), /JITEA_LDAP_URL/);
    assert.equal(await root.getByTestId('directory-dry-run').isVisible(), false, 'no buttons that cannot work');
    await a11y(root, 'the directory page without a directory');
  });

  let scimToken;
  await step('an admin creates a SCIM token and sees it exactly once', async () => {
    await root.getByTestId('scim-token-create').click();
    await root.getByTestId('field-error-name').waitFor();
    await root.getByTestId('scim-token-name').fill('Example ID provisioning');
    await root.getByTestId('scim-token-create').click();
    const shown = root.getByTestId('scim-token-created');
    await shown.waitFor();
    assert.match(await root.getByTestId('scim-token-warning').innerText(), /Copy it now: it will not be shown again/);
    assert.match(await shown.innerText(), new RegExp(`${base.replace(/\./g, '\\.')}/scim/v2`));
    const token = await root.getByTestId('scim-token-value').inputValue();
    assert.ok(token.length >= 20, `a real token: ${token}`);
    await a11y(root, 'the directory page showing a new SCIM token');
    // The token works for SCIM and the list shows only its prefix.
    const users = await fetch(`${base}/scim/v2/Users`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(users.status, 200);
    await root.getByTestId('scim-token-done').click();
    assert.equal(await root.getByTestId('scim-token-created').count(), 0);
    const row = root.locator('[data-testid="scim-token-row"]', { hasText: 'Example ID provisioning' });
    await row.waitFor();
    assert.doesNotMatch(await root.getByTestId('scim-tokens').innerText(), new RegExp(token));
    await root.reload();
    await row.waitFor();
    assert.doesNotMatch(await root.locator('body').innerText(), new RegExp(token));
    scimToken = token;
  });

  await step('a user the identity provider creates over SCIM shows as such', async () => {
    const r = await fetch(`${base}/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'sam', externalId: 'ext-sam', displayName: 'Sam Provisioned', active: true }),
    });
    assert.equal(r.status, 201, await r.text());
    await root.goto(`${base}/admin/users`);
    const sam = root.locator('[data-testid="user-row"]', { hasText: 'Sam Provisioned' });
    await sam.waitFor();
    assert.equal(await sam.getAttribute('data-source'), 'scim');
    assert.match(await sam.getByTestId('user-source').innerText(), /SCIM/);
    assert.equal(await sam.getByTestId('user-external-id').innerText(), 'ext-sam');
    assert.match(await sam.getByTestId('user-managed-note').innerText(), /over SCIM/);
    await a11y(root, 'the users page with a SCIM user');
    await root.goto(`${base}/admin/directory`);
  });

  await step('revoking asks first, then the token stops working', async () => {
    const row = root.locator('[data-testid="scim-token-row"]', { hasText: 'Example ID provisioning' });
    await row.getByTestId('scim-token-revoke').click();
    await row.getByTestId('scim-token-revoke-confirm').waitFor();
    await a11y(root, 'the directory page confirming a revocation');
    await row.getByTestId('confirm-no').click();
    assert.equal(await row.getAttribute('data-revoked'), 'false');
    await row.getByTestId('scim-token-revoke').click();
    await row.getByTestId('confirm-yes').click();
    await root.locator('[data-testid="scim-token-row"][data-revoked="true"]', { hasText: 'Example ID provisioning' }).waitFor();
    const users = await fetch(`${base}/scim/v2/Users`, { headers: { authorization: `Bearer ${scimToken}` } });
    assert.equal(users.status, 401);
  });
});

test('directory page against a real directory: dry run, sync, guard and sync anyway', async () => {
  const ldap = await startSlapd(
    person('ann', 'Payments', 'Engineer') +
      person('bob', 'Payments', 'Engineer') +
      person('cat', 'Sales', 'Account Manager') +
      `dn: cn=bad entry,${PEOPLE}\nobjectClass: inetOrgPerson\nuid: bad login with spaces\ncn: bad entry\nsn: bad\n\n`,
  );
  stops.push(() => ldap.stop());
  const server = await startServer([], { env: { ...ldap.env, JITEA_LDAP_MAX_DEACTIVATE_PERCENT: '50' } });
  stops.push(() => server.stop());
  const base = server.base;
  const root = await newPage();

  await step('admin opens the directory page', async () => {
    await root.goto(`${base}/login`);
    await root.getByTestId('login-user').fill(ADMIN.login);
    await root.getByTestId('login-password').fill(ADMIN.password);
    await root.getByTestId('login-submit').click();
    await root.getByTestId('nav-dashboard').waitFor({ state: 'attached' });
    await root.goto(`${base}/admin/directory`);
    await root.getByTestId('directory-actions').waitFor();
  });

  await step('a dry run shows the planned changes and the skipped entry, and changes nothing', async () => {
    await root.getByTestId('directory-dry-run').click();
    const result = root.locator('[data-testid="directory-result"][data-dry-run="true"]');
    await result.waitFor();
    assert.equal(await result.getAttribute('data-status'), 'succeeded');
    const creates = await root.locator('[data-testid="directory-change"][data-action="create"]').evaluateAll((rows) => rows.map((r) => r.dataset.login).sort());
    assert.deepEqual(creates, ['ann', 'bob', 'cat']);
    assert.match(await root.getByTestId('directory-entry-errors').innerText(), /cn=bad entry/);
    await root.locator('[data-testid="directory-run"]').first().waitFor();
    await a11y(root, 'the directory page with a dry run');
    const users = await api(base).call('GET', '/users?limit=50', await api(base).login(ADMIN.login, ADMIN.password));
    assert.equal(users.items.filter((u) => u.source === 'directory').length, 0, 'a dry run creates nobody');
  });

  await step('sync now asks first, then creates the users', async () => {
    await root.getByTestId('directory-sync').click();
    await root.getByTestId('directory-sync-confirm').waitFor();
    await a11y(root, 'the directory page confirming a sync');
    await root.getByTestId('directory-sync-confirm').getByTestId('confirm-yes').click();
    const result = root.locator('[data-testid="directory-result"][data-dry-run="false"][data-status="succeeded"]');
    await result.waitFor();
    assert.match(await root.getByTestId('directory-result-counts').innerText(), /3 created/);
    await root.waitForFunction(() => document.querySelectorAll('[data-testid="directory-run"]').length >= 2);
  });

  await step('the users page shows directory users with their last sync', async () => {
    await root.goto(`${base}/admin/users`);
    const ann = root.locator('[data-testid="user-row"][data-source="directory"]', { hasText: 'ann' });
    await ann.waitFor();
    assert.match(await ann.getByTestId('user-source').innerText(), /directory/);
    assert.match(await ann.getByTestId('user-last-sync').innerText(), /\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    assert.match(await ann.getByTestId('user-managed-note').innerText(), /overwritten at the next sync/);
    await a11y(root, 'the users page with directory users');
  });

  await step('the guard refuses a sync that would deactivate most users; sync anyway is confirmed', async () => {
    ldap.remove(`uid=bob,${PEOPLE}`);
    ldap.remove(`uid=cat,${PEOPLE}`);
    await root.goto(`${base}/admin/directory`);
    await root.getByTestId('directory-sync').click();
    await root.getByTestId('directory-sync-confirm').getByTestId('confirm-yes').click();
    await root.locator('[data-testid="directory-result"][data-status="refused"]').waitFor();
    assert.match(await root.getByTestId('directory-guard').innerText(), /Nothing was changed/);
    const leavers = await root.locator('[data-testid="directory-change"][data-action="deactivate"]').evaluateAll((rows) => rows.map((r) => r.dataset.login).sort());
    assert.deepEqual(leavers, ['bob', 'cat']);
    await a11y(root, 'the directory page with a refused sync');
    await root.getByTestId('directory-force').click();
    await root.getByTestId('directory-force-confirm').waitFor();
    await a11y(root, 'the directory page confirming a forced sync');
    await root.getByTestId('directory-force-confirm').getByTestId('confirm-yes').click();
    const forced = root.locator('[data-testid="directory-result"][data-status="succeeded"]');
    await forced.waitFor();
    assert.match(await root.getByTestId('directory-result-counts').innerText(), /2 deactivated/);
    await root.locator('[data-testid="directory-run"][data-status="refused"]').waitFor();
    const kinds = await root.locator('[data-testid="directory-run"] td:nth-child(4)').allInnerTexts();
    assert.ok(kinds.includes('forced'), kinds.join(', '));
  });
});

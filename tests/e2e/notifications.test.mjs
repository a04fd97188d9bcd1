// The notification pages in a real browser. An admin opens /admin/notifications, sees a
// webhook delivery that failed (a local receiver answers 404, a permanent failure), lets the
// receiver accept and retries it until it is sent; creates a webhook subscription and sees its
// secret once (gone after "Done" and after a reload), rotates the secret, disables the
// subscription and deletes it after a confirmation. A user mutes reminders on the dashboard
// and finds the setting kept after a reload. axe-core checks every page and state visited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer, api, launch, signIn, checkA11y, ADMIN, PW, pageSteps } from './harness.mjs';

let server, browser, client, admin, receiver, receiverUrl, failedId;
/** What the local webhook receiver answers: 404 (permanent failure) until told to accept. */
let accept = false;
const kit = pageSteps();

before(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(accept ? 204 : 404);
      res.end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  server = await startServer([], { env: { JITEA_WEBHOOK_ALLOW_HTTP: 'true' } });
  browser = await launch();
  client = api(server.base);
  admin = await client.login(ADMIN.login, ADMIN.password);
  await client.call('POST', '/webhooks', admin, { url: receiverUrl, events: ['request.created'], description: 'local receiver' });
  const target = await client.call('POST', '/targets', admin, { name: 'warehouse', kind: 'noop' });
  const reader = await client.call('POST', '/db-roles', admin, { target_id: target.id, db_role_name: 'app_reader' });
  const role = await client.call('POST', '/roles', admin, { role_name: 'Read only', max_duration_minutes: 60, requires_approval: false });
  await client.call('PUT', `/roles/${role.id}/db-roles/${reader.id}`, admin, {});
  await client.call('POST', '/eligibility-rules', admin, { role_id: role.id, scope_type: 'all' });
  await client.call('POST', '/users', admin, { login_name: 'nina', display_name: 'Nina User', password: PW });
  const nina = await client.login('nina', PW);
  // request.created goes to the receiver, which refuses it for good.
  await client.call('POST', '/requests', nina, { role_id: role.id, requested_duration_minutes: 30, justification: 'read the orders' });
  failedId = await waitForDelivery('failed');
});

after(async () => {
  await browser?.close();
  server?.stop();
  receiver?.close();
});

/** The id of the first webhook delivery with this status (polls the API). */
async function waitForDelivery(status) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const page = await client.call('GET', `/notifications/deliveries?status=${status}`, admin);
    const d = page.items.find((x) => x.channel === 'webhook' && x.address === receiverUrl);
    if (d) return d.id;
    if (Date.now() > deadline) throw new Error(`no ${status} webhook delivery`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function context() {
  return kit.context(browser);
}

const step = kit.step;

test('admin: deliveries with retry, and webhook subscriptions with a secret shown once', async () => {
  const page = await context();
  const failedRow = page.locator(`[data-testid="delivery-row"][data-delivery-id="${failedId}"]`);
  const hook = page.locator('[data-testid="webhook-row"]', { hasText: 'receiver.example' });
  let secret;

  await step(
    'the page lists the failed delivery with its error',
    async () => {
      await signIn(page, server.base, ADMIN.login, ADMIN.password);
      await page.goto(`${server.base}/admin`);
      await page.getByRole('link', { name: 'Notifications' }).click();
      await page.waitForURL(/\/admin\/notifications$/);
      await failedRow.waitFor();
      assert.equal(await failedRow.getAttribute('data-status'), 'failed');
      assert.equal(await failedRow.getAttribute('data-channel'), 'webhook');
      const text = await failedRow.innerText();
      assert.match(text, /request\.created/);
      assert.match(text, new RegExp(receiverUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
      assert.match(await failedRow.getByTestId('delivery-error').innerText(), /404/);
      await page.getByTestId('webhook-table').waitFor();
    },
    [[page, 'notifications: a failed delivery']],
  );

  await step(
    'the status filter shows only failed deliveries',
    async () => {
      await page.getByTestId('delivery-status').selectOption('failed');
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('[data-testid="delivery-row"]')];
        return rows.length > 0 && rows.every((r) => r.dataset.status === 'failed');
      });
    },
    [[page, 'notifications: filtered by status']],
  );

  await step(
    'Retry sends it again; once the receiver accepts, it is sent',
    async () => {
      accept = true;
      await failedRow.getByTestId('delivery-retry').click();
      await page.locator('[data-testid="toast"][data-kind="success"]', { hasText: `Delivery #${failedId}` }).waitFor();
      assert.equal(await waitForDelivery('sent'), failedId);
      await page.getByTestId('delivery-status').selectOption('sent');
      await page.locator(`[data-testid="delivery-row"][data-delivery-id="${failedId}"][data-status="sent"]`).waitFor();
    },
    [[page, 'notifications: the delivery retried and sent']],
  );

  await step(
    'a missing URL and no event are refused on their fields',
    async () => {
      await page.getByTestId('webhook-create').click();
      await page.getByTestId('field-error-url').waitFor();
      await page.getByTestId('field-error-events').waitFor();
      assert.equal(await page.getByTestId('webhook-url').getAttribute('aria-invalid'), 'true');
    },
    [[page, 'notifications: the webhook form with errors']],
  );

  await step(
    'creating a subscription shows its secret once',
    async () => {
      await page.getByTestId('webhook-url').fill('https://receiver.example/hook');
      await page.getByLabel('grant.revoked').check();
      await page.getByLabel('grant.break_glass').check();
      await page.getByTestId('webhook-description').fill('SIEM');
      await page.getByTestId('webhook-create').click();
      const box = page.getByTestId('webhook-secret-created');
      await box.waitFor();
      secret = await page.getByTestId('webhook-secret-value').inputValue();
      assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
      assert.match(await page.getByTestId('webhook-secret-warning').innerText(), /Copy it now: it will not be shown again/);
      await hook.waitFor();
      assert.match(await hook.innerText(), /grant\.revoked, grant\.break_glass|grant\.break_glass, grant\.revoked/);
      assert.equal(await hook.getAttribute('data-enabled'), 'true');
    },
    [[page, 'notifications: a new subscription and its secret']],
  );

  await step(
    'the secret is gone after "Done" and after a reload',
    async () => {
      await page.getByTestId('webhook-secret-done').click();
      await page.getByTestId('webhook-secret-created').waitFor({ state: 'detached' });
      await page.reload();
      await hook.waitFor();
      assert.equal(await page.getByTestId('webhook-secret-created').count(), 0);
      assert.ok(!(await page.content()).includes(secret));
    },
    [],
  );

  await step(
    'rotating the secret asks first, then shows a new one once',
    async () => {
      await hook.getByTestId('webhook-rotate').click();
      await hook.getByTestId('webhook-confirm').waitFor();
      await checkA11y(page, 'notifications: confirm rotating the secret');
      await hook.getByTestId('confirm-yes').click();
      await page.getByTestId('webhook-secret-created').waitFor();
      const rotated = await page.getByTestId('webhook-secret-value').inputValue();
      assert.match(rotated, /^whsec_/);
      assert.notEqual(rotated, secret);
      await page.getByTestId('webhook-secret-done').click();
    },
    [],
  );

  await step(
    'disabling it',
    async () => {
      await hook.getByTestId('webhook-toggle').click();
      await page.locator('[data-testid="webhook-row"][data-enabled="false"]', { hasText: 'receiver.example' }).waitFor();
      assert.equal(await hook.getByTestId('webhook-toggle').innerText(), 'Enable');
    },
    [[page, 'notifications: a disabled subscription']],
  );

  await step(
    'deleting it asks first; Cancel keeps it',
    async () => {
      await hook.getByTestId('webhook-delete').click();
      const confirm = hook.getByTestId('webhook-confirm');
      await confirm.waitFor();
      assert.match(await confirm.innerText(), /Delete now/);
      await checkA11y(page, 'notifications: confirm deleting a subscription');
      await confirm.getByTestId('confirm-no').click();
      await confirm.waitFor({ state: 'hidden' });
      await hook.getByTestId('webhook-delete').click();
      await hook.getByTestId('confirm-yes').click();
      await hook.waitFor({ state: 'detached' });
      const left = await client.call('GET', '/webhooks', admin);
      assert.deepEqual(left.items.map((w) => w.url), [receiverUrl]);
    },
    [[page, 'notifications: the subscription deleted']],
  );
});

test('a user mutes reminders on the dashboard and the setting is kept', async () => {
  const page = await context();
  await step(
    'the dashboard shows the settings, unmuted',
    async () => {
      await signIn(page, server.base, 'nina', PW);
      await page.locator('[data-testid="notification-form"][data-ready="true"]').waitFor();
      assert.equal(await page.getByTestId('mute-reminders').isChecked(), false);
      assert.equal(await page.getByTestId('mute-decisions').isChecked(), false);
      assert.match(await page.getByTestId('notification-settings').innerText(), /always sent/);
      assert.equal(await page.getByRole('link', { name: 'Notifications' }).count(), 0);
    },
    [[page, 'dashboard: notification settings']],
  );

  await step(
    'mute reminders and save',
    async () => {
      await page.getByLabel('No reminders before my access ends').check();
      await page.getByTestId('notification-save').click();
      await page.locator('[data-testid="toast"][data-kind="success"]', { hasText: 'Notification settings saved' }).waitFor();
    },
    [[page, 'dashboard: notification settings saved']],
  );

  await step(
    'kept after a reload',
    async () => {
      await page.reload();
      await page.locator('[data-testid="notification-form"][data-ready="true"]').waitFor();
      assert.equal(await page.getByTestId('mute-reminders').isChecked(), true);
      assert.equal(await page.getByTestId('mute-decisions').isChecked(), false);
      const nina = await client.login('nina', PW);
      assert.deepEqual(await client.call('GET', '/me/notification-settings', nina), { mute_reminders: true, mute_decisions: false });
    },
    [],
  );
});

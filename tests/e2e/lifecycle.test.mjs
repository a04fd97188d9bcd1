// A grant's extension in a real browser: a requester whose grant on a role needing approval
// is in its last 15 minutes sees "Extend" offered prominently, asks for more time from the
// dashboard (a refused amount shows its message on the field first), the approver sees the
// request marked as an extension with the grant's facts and its approval window and approves
// it, and the requester's countdown moves without a reload. Then a role needing two approvals
// in stages: the second stage's approver sees the stage in the queue and is told to wait, the
// first stage's approval counts (1 of 2), and the second's approves it. axe-core checks every
// page and state visited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api, launch, signIn, ADMIN, PW, pageSteps } from './harness.mjs';

let server, browser, client, grantId;
const kit = pageSteps();

before(async () => {
  server = await startServer();
  browser = await launch();
  client = api(server.base);
  const admin = await client.login(ADMIN.login, ADMIN.password);
  const target = await client.call('POST', '/targets', admin, { name: 'warehouse', kind: 'noop' });
  const writer = await client.call('POST', '/db-roles', admin, { target_id: target.id, db_role_name: 'app_writer' });
  const write = await client.call('POST', '/roles', admin, { role_name: 'Prod write', max_duration_minutes: 120, requires_approval: true, requires_justification: true });
  await client.call('PUT', `/roles/${write.id}/db-roles/${writer.id}`, admin, {});
  await client.call('POST', '/eligibility-rules', admin, { role_id: write.id, scope_type: 'all' });
  await client.call('POST', '/users', admin, { login_name: 'rita', display_name: 'Rita Requester', department: 'Eng', seniority_level: 2, password: PW });
  const aaron = await client.call('POST', '/users', admin, { login_name: 'aaron', display_name: 'Aaron Approver', password: PW });
  await client.call('POST', `/roles/${write.id}/approvers`, admin, { approver_type: 'user', approver_user_id: aaron.id });

  // Rita holds a 10-minute grant (asked and approved over the API): already in its last 15
  // minutes, so the dashboard offers the extension prominently.
  const rita = await client.login('rita', PW);
  const aaronToken = await client.login('aaron', PW);
  const req = await client.call('POST', '/requests', rita, { role_id: write.id, requested_duration_minutes: 10, justification: 'migrate the orders table' });
  await client.call('POST', `/requests/${req.id}/approve`, aaronToken, { comment: 'go ahead' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const page = await client.call('GET', '/me/grants?status=active', rita);
    if (page.items.length > 0) {
      grantId = page.items[0].id;
      break;
    }
    if (Date.now() > deadline) throw new Error('the grant did not become active');
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function context() {
  return kit.context(browser);
}

const step = kit.step;

/** The grant's end as the dashboard shows it (the countdown's `datetime`), in ms. */
async function shownEnd(page) {
  const card = page.locator(`[data-testid="grant-card"][data-grant-id="${grantId}"]`);
  return Date.parse(await card.getByTestId('grant-countdown').getAttribute('datetime'));
}

test('extend a grant from the dashboard; the approver sees an extension; the countdown moves live', async () => {
  const rita = await context();
  const aaron = await context();
  const card = rita.locator(`[data-testid="grant-card"][data-grant-id="${grantId}"]`);
  let endBefore, requestId;

  await step(
    'the dashboard offers the extension prominently near the end',
    async () => {
      await signIn(rita, server.base, 'rita', PW);
      await card.waitFor();
      await card.getByTestId('ends-soon').waitFor();
      assert.match(await card.getByTestId('extend-open').getAttribute('class'), /btn-primary/);
      endBefore = await shownEnd(rita);
      // Set once: still there at the end only if the page was never reloaded.
      await rita.evaluate(() => {
        window.__noReload = true;
      });
    },
    [[rita, 'dashboard: a grant ending soon']],
  );

  await step(
    'the form opens',
    async () => {
      await card.getByTestId('extend-open').click();
      await card.getByTestId('extend-form').waitFor();
      assert.equal(await card.getByTestId('extend-open').getAttribute('aria-expanded'), 'true');
      await rita.waitForFunction(() => document.activeElement?.dataset.testid === 'extend-minutes');
    },
    [[rita, 'dashboard: the extend form']],
  );

  await step(
    'an amount over the role limit is refused with its message on the field',
    async () => {
      await card.getByTestId('extend-minutes').fill('999');
      await card.getByTestId('extend-justification').fill('the migration needs another half hour');
      await card.getByTestId('extend-submit').click();
      await card.getByTestId('field-error-extra_minutes').waitFor();
      assert.match(await card.getByTestId('field-error-extra_minutes').innerText(), /120/);
      assert.equal(await card.getByTestId('extend-minutes').getAttribute('aria-invalid'), 'true');
    },
    [[rita, 'dashboard: the extend form with an error']],
  );

  await step(
    'the extension is asked for and shown as waiting',
    async () => {
      await card.getByTestId('extend-minutes').fill('30');
      await card.getByTestId('extend-submit').click();
      await card.getByTestId('pending-extension').waitFor({ timeout: 10_000 });
      await rita.waitForFunction(
        (id) => /30 min/.test(document.querySelector(`[data-grant-id="${id}"] [data-testid="pending-extension"]`)?.textContent || ''),
        grantId,
      );
      requestId = await card.getByTestId('pending-extension').getAttribute('data-request-id');
      assert.ok(requestId);
      assert.equal(await card.getByTestId('extend-open').count(), 0);
      assert.equal(await shownEnd(rita), endBefore, 'nothing moves before the approval');
    },
    [[rita, 'dashboard: an extension waiting for approval']],
  );

  await step(
    "the requester's history shows the extension and its approval window",
    async () => {
      await rita.getByTestId('nav-history').click();
      const row = rita.locator(`[data-testid="history-row"][data-request-id="${requestId}"]`);
      await row.waitFor();
      assert.equal(await row.getAttribute('data-status'), 'pending');
      await row.getByTestId('extension-badge').waitFor();
      assert.match(await row.getByTestId('decide-by').innerText(), /\(in \d+ (d|h|min)/);
    },
    [[rita, 'history: a pending extension']],
  );

  await step(
    'back on the dashboard (in-app navigation, no reload)',
    async () => {
      await rita.getByTestId('nav-dashboard').click();
      await card.getByTestId('pending-extension').waitFor();
    },
    [],
  );

  await step(
    'the approver sees it marked as an extension in the queue',
    async () => {
      await signIn(aaron, server.base, 'aaron', PW);
      await aaron.getByTestId('nav-approvals').click();
      const row = aaron.locator(`[data-testid="approval-row"][data-request-id="${requestId}"]`);
      await row.waitFor({ timeout: 10_000 });
      await row.getByTestId('extension-badge').waitFor();
      const text = await row.innerText();
      assert.match(text, /rita wants 30 min more of Prod write/);
      assert.match(text, new RegExp(`grant #${grantId}`));
      await row.getByTestId('decide-by').waitFor();
    },
    [[aaron, 'approvals: an extension in the queue']],
  );

  await step(
    'the detail shows the grant, how long it is held, its end and earlier extensions',
    async () => {
      await aaron.locator(`[data-testid="approval-row"][data-request-id="${requestId}"] [data-testid="approval-open"]`).click();
      const detail = aaron.getByTestId('approval-detail');
      await detail.waitFor();
      await detail.getByTestId('extension-badge').waitFor();
      assert.equal(await detail.getByTestId('extension-grant').innerText(), `grant #${grantId}`);
      assert.match(await detail.getByTestId('extension-held').innerText(), /\d+ min/);
      assert.equal(await detail.getByTestId('extension-previous').innerText(), '0');
      const ends = Date.parse(await detail.locator('[data-testid="extension-ends"] time').getAttribute('datetime'));
      assert.equal(ends, endBefore);
      await detail.getByTestId('decide-by').waitFor();
    },
    [[aaron, 'approval detail: an extension']],
  );

  await step(
    'the approver approves',
    async () => {
      await aaron.getByTestId('approve-comment').fill('30 more minutes is fine');
      await aaron.getByTestId('approve-button').click();
      await aaron.getByTestId('toast').first().waitFor();
    },
    [[aaron, 'approvals after the decision']],
  );

  await step(
    "the requester's countdown moves without a reload",
    async () => {
      await rita.waitForFunction(
        ([id, before]) => {
          const t = document.querySelector(`[data-grant-id="${id}"] [data-testid="grant-countdown"]`);
          return t && Date.parse(t.getAttribute('datetime')) > before;
        },
        [grantId, endBefore],
        { timeout: 10_000 },
      );
      assert.equal(await shownEnd(rita), endBefore + 30 * 60_000);
      assert.equal(await rita.evaluate(() => window.__noReload), true, 'the page was not reloaded');
      // 40 minutes or so left: no longer "ending soon", and nothing is waiting any more.
      assert.match(await card.getByTestId('grant-countdown').innerText(), /^(3\d|40)m \d\ds$/);
      assert.equal(await card.getByTestId('ends-soon').count(), 0);
      assert.equal(await card.getByTestId('pending-extension').count(), 0);
      assert.match(await card.getByTestId('extend-open').getAttribute('class'), /btn-secondary/);
      assert.match(await card.getByTestId('grant-window').innerText(), /extended 1×/);
    },
    [[rita, 'dashboard: the extended grant']],
  );

  await step(
    "the extension's timeline lists its steps in order",
    async () => {
      await rita.getByTestId('nav-history').click();
      const row = rita.locator(`[data-testid="history-row"][data-request-id="${requestId}"]`);
      await row.waitFor();
      await row.getByTestId('timeline-toggle').click();
      await row.getByTestId('timeline').waitFor();
      const steps = await row.getByTestId('timeline-summary').allInnerTexts();
      // The grant's own steps come first (asked for 10 minutes, approved, granted, added).
      const at = (re, after = -1) => steps.findIndex((t, i) => i > after && re.test(t));
      assert.equal(at(/^access granted$/) >= 0, true, steps.join(' | '));
      const asked = at(/^rita asked for 30 more minutes$/);
      const approved = at(/^aaron approved$/, asked);
      const extended = at(/^access extended by 30 minutes, now until /, approved);
      assert.ok(asked >= 0 && asked < approved && approved < extended, steps.join(' | '));
      assert.equal(await row.getByTestId('timeline-toggle').getAttribute('aria-expanded'), 'true');
    },
    [[rita, 'history: an extension with its timeline open']],
  );
});

test('a role needing two approvals in stages: the queue shows the stage, the second stage waits for the first', async () => {
  const admin = await client.login(ADMIN.login, ADMIN.password);
  const target = await client.call('POST', '/targets', admin, { name: 'ledger', kind: 'noop' });
  const owner = await client.call('POST', '/db-roles', admin, { target_id: target.id, db_role_name: 'ledger_owner' });
  const dba = await client.call('POST', '/roles', admin, {
    role_name: 'Ledger DBA', max_duration_minutes: 60, requires_approval: true, requires_justification: true,
    required_approvals: 2, approval_stages: true,
  });
  await client.call('PUT', `/roles/${dba.id}/db-roles/${owner.id}`, admin, {});
  await client.call('POST', '/eligibility-rules', admin, { role_id: dba.id, scope_type: 'all' });
  const lena = await client.call('POST', '/users', admin, { login_name: 'lena', display_name: 'Lena Lead', password: PW });
  const sam = await client.call('POST', '/users', admin, { login_name: 'sam', display_name: 'Sam Security', password: PW });
  await client.call('POST', `/roles/${dba.id}/approvers`, admin, { approver_type: 'user', approver_user_id: lena.id, priority: 1 });
  await client.call('POST', `/roles/${dba.id}/approvers`, admin, { approver_type: 'user', approver_user_id: sam.id, priority: 2 });
  const rita = await client.login('rita', PW);
  const req = await client.call('POST', '/requests', rita, { role_id: dba.id, requested_duration_minutes: 30, justification: 'rebuild the ledger indexes' });

  const samPage = await context();
  const lenaPage = await context();
  const rowOf = (page) => page.locator(`[data-testid="approval-row"][data-request-id="${req.id}"]`);

  await step(
    'the second stage sees the request with its stage and who it waits for',
    async () => {
      await signIn(samPage, server.base, 'sam', PW);
      await samPage.getByTestId('nav-approvals').click();
      await rowOf(samPage).waitFor({ timeout: 10_000 });
      assert.equal(await rowOf(samPage).getByTestId('approval-progress').innerText(), '0 of 2 approvals · stage 1 of 2 · waiting for lena');
    },
    [[samPage, 'approvals: a request in its first stage']],
  );

  await step(
    'approving before the first stage is refused with a reason',
    async () => {
      await rowOf(samPage).getByTestId('approval-open').click();
      await samPage.getByTestId('approval-detail').waitFor();
      await samPage.getByTestId('approve-button').click();
      await samPage.getByTestId('form-error').waitFor();
      assert.match(await samPage.getByTestId('form-error').innerText(), /waiting for approval stage 1 of 2/);
    },
    [[samPage, 'approval detail: stage not open']],
  );

  await step(
    'the first stage approves; its approval counts and the request waits for the second',
    async () => {
      await signIn(lenaPage, server.base, 'lena', PW);
      await lenaPage.goto(`${server.base}/approvals/${req.id}`);
      await lenaPage.getByTestId('approval-detail').waitFor();
      await lenaPage.getByTestId('approve-button').click();
      await lenaPage.getByTestId('toast').first().waitFor();
      assert.match(await lenaPage.getByTestId('toast').first().innerText(), /counts: 1 of 2 approvals · stage 2 of 2 · waiting for sam/);
      const now = await client.call('GET', `/requests/${req.id}`, admin);
      assert.equal(now.status, 'pending');
    },
    [[lenaPage, 'approvals after a counted approval']],
  );

  await step(
    'the second stage approves and the request is approved',
    async () => {
      await samPage.goto(`${server.base}/approvals/${req.id}`);
      await samPage.getByTestId('approval-detail').waitFor();
      await samPage.waitForFunction(() => /stage 2 of 2/.test(document.querySelector('[data-testid="approval-progress"]')?.textContent || ''));
      await samPage.getByTestId('approve-button').click();
      await samPage.getByTestId('toast').first().waitFor();
      const done = await client.call('GET', `/requests/${req.id}`, admin);
      assert.equal(done.status, 'approved');
      assert.deepEqual(done.approvals.map((a) => a.approver_login_name), ['lena', 'sam']);
    },
    [[samPage, 'approvals after the last approval']],
  );
});

test('scheduled access from the request form: a start in the past is refused on its field, a later start shows as scheduled', async () => {
  const admin = await client.login(ADMIN.login, ADMIN.password);
  const target = await client.call('POST', '/targets', admin, { name: 'reports', kind: 'noop' });
  const reader = await client.call('POST', '/db-roles', admin, { target_id: target.id, db_role_name: 'report_reader' });
  const reports = await client.call('POST', '/roles', admin, { role_name: 'Reports read', max_duration_minutes: 120, requires_approval: false, requires_justification: false });
  await client.call('PUT', `/roles/${reports.id}/db-roles/${reader.id}`, admin, {});
  await client.call('POST', '/eligibility-rules', admin, { role_id: reports.id, scope_type: 'all' });
  const page = await context();
  // The form takes the browser's local time, as a datetime-local input gives it.
  const local = (offsetMs) =>
    page.evaluate((ms) => {
      const d = new Date(Date.now() + ms);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }, offsetMs);

  await step(
    'a start in the past is refused with its message on the field',
    async () => {
      await signIn(page, server.base, 'rita', PW);
      await page.getByTestId('nav-request').click();
      await page.getByTestId('request-role').selectOption({ label: 'Reports read' });
      await page.getByTestId('request-duration').fill('30');
      await page.getByTestId('request-start').fill(await local(-2 * 3600_000));
      await page.getByTestId('request-submit').click();
      await page.getByTestId('field-error-start_utc').waitFor();
      assert.match(await page.getByTestId('field-error-start_utc').innerText(), /start time has passed/);
      assert.equal(await page.getByTestId('request-start').getAttribute('aria-invalid'), 'true');
    },
    [[page, 'request form: a start in the past']],
  );

  let startsAt;
  await step(
    'a start two hours ahead is granted as scheduled and shown so on the dashboard',
    async () => {
      const value = await local(2 * 3600_000);
      startsAt = await page.evaluate((v) => new Date(v).getTime(), value);
      await page.getByTestId('request-start').fill(value);
      await page.getByTestId('request-submit').click();
      const card = page.locator('[data-testid="grant-card"]', { hasText: 'Reports read' });
      await card.waitFor({ timeout: 10_000 });
      await card.getByTestId('grant-scheduled').waitFor();
      assert.match(await card.innerText(), /Starts in/);
      assert.match(await card.innerText(), /Scheduled: this access starts at/);
      assert.equal(Date.parse(await card.getByTestId('grant-countdown').getAttribute('datetime')), startsAt);
    },
    [[page, 'dashboard: a scheduled grant']],
  );

  await step(
    'the history shows when it starts',
    async () => {
      await page.getByTestId('nav-history').click();
      const row = page.locator('[data-testid="history-row"]', { hasText: 'Reports read' });
      await row.waitFor();
      assert.equal(Date.parse(await row.locator('[data-testid="request-start"] time').getAttribute('datetime')), startsAt);
    },
    [[page, 'history: a scheduled request']],
  );
});

test('break-glass: granted at once and flagged on the dashboard, counted on the overview, reviewed and revoked from the approvals page', async () => {
  const admin = await client.login(ADMIN.login, ADMIN.password);
  const target = await client.call('POST', '/targets', admin, { name: 'payments', kind: 'noop' });
  const owner = await client.call('POST', '/db-roles', admin, { target_id: target.id, db_role_name: 'payments_owner' });
  const bg = await client.call('POST', '/roles', admin, { role_name: 'Payments emergency', max_duration_minutes: 60, break_glass: true, review_window_minutes: 120 });
  await client.call('PUT', `/roles/${bg.id}/db-roles/${owner.id}`, admin, {});
  await client.call('POST', '/eligibility-rules', admin, { role_id: bg.id, scope_type: 'all' });
  const aaron = (await client.call('GET', '/users?q=aaron', admin)).items[0];
  await client.call('POST', `/roles/${bg.id}/approvers`, admin, { approver_type: 'user', approver_user_id: aaron.id });
  const rita = await client.login('rita', PW);
  const req = await client.call('POST', '/requests', rita, { role_id: bg.id, requested_duration_minutes: 30, justification: 'payments are failing, incident bridge open' });
  assert.equal(req.status, 'auto_approved');

  const ritaPage = await context();
  const aaronPage = await context();
  const adminPage = await context();

  await step(
    'the holder sees the grant marked as break-glass with its review',
    async () => {
      await signIn(ritaPage, server.base, 'rita', PW);
      const card = ritaPage.locator(`[data-testid="grant-card"][data-grant-id="${req.grant_id}"]`);
      await card.waitFor({ timeout: 10_000 });
      await card.getByTestId('break-glass-badge').waitFor();
      assert.match(await card.getByTestId('break-glass-note').innerText(), /approvers were told and review it by/);
    },
    [[ritaPage, 'dashboard: a break-glass grant']],
  );

  await step(
    'the admin overview counts it as waiting for review',
    async () => {
      await signIn(adminPage, server.base, ADMIN.login, ADMIN.password);
      await adminPage.goto(`${server.base}/admin`);
      await adminPage.getByTestId('overview-break-glass').waitFor();
      assert.match(await adminPage.getByTestId('overview-break-glass').innerText(), /^1\s/);
      assert.match(await adminPage.getByTestId('overview-break-glass-overdue').innerText(), /^0\s/);
    },
    [[adminPage, 'admin overview with a break-glass use to review']],
  );

  await step(
    "the role's approver flags it and revokes the access",
    async () => {
      await signIn(aaronPage, server.base, 'aaron', PW);
      await aaronPage.getByTestId('nav-approvals').click();
      const row = aaronPage.locator(`[data-testid="review-row"][data-grant-id="${req.grant_id}"]`);
      await row.waitFor({ timeout: 10_000 });
      assert.match(await row.innerText(), /rita used Payments emergency/);
      assert.match(await row.innerText(), /incident bridge open/);
      // A comment is required: the server's message shows in the row.
      await row.getByTestId('review-accept').click();
      await row.getByTestId('review-error').waitFor();
      await row.getByTestId('review-comment').fill('no incident was open at that time');
      await row.getByTestId('review-revoke').check();
      await row.getByTestId('review-flag').click();
      await aaronPage.getByTestId('toast').first().waitFor();
      await row.waitFor({ state: 'detached', timeout: 10_000 });
      const g = await client.call('GET', `/grants/${req.grant_id}`, admin);
      assert.equal(g.review.outcome, 'flag');
      assert.ok(['revoked'].includes(g.status) || g.pending_end === 'revoke', JSON.stringify(g));
    },
    [[aaronPage, 'approvals: a break-glass use to review']],
  );
});

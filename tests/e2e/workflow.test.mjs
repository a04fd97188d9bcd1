// The web app in a real browser: a requester gets a pre-approved role at once, asks for a
// manual one, an approver in a second browser sees it arrive live and approves it, the
// requester's dashboard updates without reload, nobody can approve their own request, and an
// admin's new role and rule show up in the requester's form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, api, launch, signIn, keepScreenshots, checkA11y, ADMIN, PW, REPO } from './harness.mjs';

let server, browser, client, admin;
const pages = [];

before(async () => {
  server = await startServer();
  browser = await launch();
  client = api(server.base);
  admin = await client.login(ADMIN.login, ADMIN.password);
  const target = await client.call('POST', '/targets', admin, { name: 'warehouse', kind: 'noop' });
  const reader = await client.call('POST', '/db-roles', admin, { target_id: target.id, db_role_name: 'app_reader' });
  const writer = await client.call('POST', '/db-roles', admin, { target_id: target.id, db_role_name: 'app_writer' });
  const read = await client.call('POST', '/roles', admin, { role_name: 'Prod read', max_duration_minutes: 60, requires_approval: false, requires_justification: true });
  const write = await client.call('POST', '/roles', admin, { role_name: 'Prod write', max_duration_minutes: 120, requires_approval: true, requires_justification: true });
  await client.call('PUT', `/roles/${read.id}/db-roles/${reader.id}`, admin, {});
  await client.call('PUT', `/roles/${write.id}/db-roles/${writer.id}`, admin, {});
  for (const r of [read, write]) await client.call('POST', '/eligibility-rules', admin, { role_id: r.id, scope_type: 'all' });
  await client.call('POST', '/users', admin, { login_name: 'rita', display_name: 'Rita Requester', department: 'Eng', job_title: 'Engineer', seniority_level: 2, password: PW });
  const aaron = await client.call('POST', '/users', admin, { login_name: 'aaron', display_name: 'Aaron Approver', password: PW });
  await client.call('POST', `/roles/${write.id}/approvers`, admin, { approver_type: 'user', approver_user_id: aaron.id });
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function context() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  // Browser-side errors end up in the test output, which is where a failure is read.
  page.on('pageerror', (e) => console.log(`[browser error] ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.log(`[browser console] ${m.text()}`));
  pages.push(page);
  return page;
}

// The path each page was last checked for accessibility at.
const checkedAt = new Map();

/** Runs axe-core on every open page whose location changed since its last check. */
async function checkVisitedPages() {
  for (const p of pages) {
    if (p.url().startsWith('about:')) continue; // not opened yet
    const path = new URL(p.url()).pathname;
    if (checkedAt.get(p) !== path) {
      await p.waitForLoadState('networkidle').catch(() => {});
      await checkA11y(p, path);
      checkedAt.set(p, path);
    }
  }
}

async function step(name, fn) {
  try {
    await fn();
    await checkVisitedPages();
  } catch (e) {
    const dir = await keepScreenshots(name.replace(/\W+/g, '-'), pages);
    e.message += `\n(screenshots kept in ${dir})`;
    throw e;
  }
}

test('request, live approval, countdown, no self-approval, admin-created role', async () => {
  const rita = await context();
  const aaron = await context();
  const root = await context();

  await step('requester signs in', async () => {
    await signIn(rita, server.base, 'rita', PW);
    // Time from navigation to an interactive dashboard, measured in the browser.
    const t0 = Date.now();
    await rita.goto(`${server.base}/`);
    await rita.getByTestId('nav-request').waitFor();
    await rita.getByTestId('live-indicator').waitFor();
    const ms = Date.now() - t0;
    mkdirSync(join(REPO, 'target'), { recursive: true });
    writeFileSync(join(REPO, 'target', 'e2e-dashboard-ms.txt'), `${ms}\n`);
    console.log(`dashboard interactive after ${ms} ms`);
  });

  await step('pre-approved role is granted at once', async () => {
    await rita.getByTestId('nav-request').click();
    await rita.getByTestId('request-role').selectOption({ label: 'Prod read' });
    await rita.getByTestId('request-auto-approve-hint').waitFor();
    assert.match(await rita.getByTestId('request-auto-approve-hint').innerText(), /pre-approved|at once|auto/i);
    await rita.getByTestId('request-duration').fill('30');
    await rita.getByTestId('request-justification').fill('check orders table');
    await rita.getByTestId('request-submit').click();
    await rita.getByTestId('toast').first().waitFor();
    await rita.getByTestId('nav-dashboard').click();
    await rita.getByTestId('grant-card').first().waitFor();
    assert.match(await rita.getByTestId('grant-role-name').first().innerText(), /Prod read/);
    assert.match(await rita.getByTestId('grant-countdown').first().innerText(), /\d/);
  });

  await step('approver opens an empty queue', async () => {
    await signIn(aaron, server.base, 'aaron', PW);
    await aaron.getByTestId('nav-approvals').click();
    await aaron.waitForTimeout(300);
    assert.equal(await aaron.getByTestId('approval-row').count(), 0);
  });

  let requestId;
  await step('validation errors show next to the field', async () => {
    await rita.getByTestId('nav-request').click();
    await rita.getByTestId('request-role').selectOption({ label: 'Prod write' });
    await rita.getByTestId('request-duration').fill('999');
    await rita.getByTestId('request-justification').fill('fix stuck orders');
    await rita.getByTestId('request-submit').click();
    await rita.getByTestId('field-error-requested_duration_minutes').waitFor();
  });

  await step('manual role waits for approval', async () => {
    await rita.getByTestId('request-duration').fill('45');
    await rita.getByTestId('request-submit').click();
    await rita.getByTestId('toast').first().waitFor();
    await rita.getByTestId('nav-history').click();
    const row = rita.locator('[data-testid="history-row"][data-status="pending"]').first();
    await row.waitFor();
    requestId = await row.getAttribute('data-request-id');
    assert.ok(requestId);
  });

  await step('the approver sees it arrive without reloading', async () => {
    await aaron.locator(`[data-testid="approval-row"][data-request-id="${requestId}"]`).waitFor({ timeout: 10_000 });
  });

  await step('the requester has no approve button on their own request', async () => {
    assert.equal(await rita.getByTestId('approve-button').count(), 0);
    await rita.getByTestId('nav-approvals').click();
    await rita.waitForTimeout(300);
    assert.equal(await rita.locator(`[data-testid="approval-row"][data-request-id="${requestId}"]`).count(), 0);
    await checkA11y(rita, 'the approval queue');
    await rita.goto(`${server.base}/approvals/${requestId}`);
    await rita.waitForTimeout(500);
    assert.equal(await rita.getByTestId('approve-button').count(), 0);
    await checkA11y(rita, "the requester's view of an approval");
    await rita.getByTestId('nav-dashboard').click();
    await rita.getByTestId('grant-card').first().waitFor();
  });

  await step('the approver approves with a comment', async () => {
    await aaron.locator(`[data-testid="approval-row"][data-request-id="${requestId}"] [data-testid="approval-open"]`).click();
    await aaron.getByTestId('approval-detail').waitFor();
    assert.match(await aaron.getByTestId('approval-detail').innerText(), /rita/i);
    await aaron.getByTestId('approve-comment').fill('ok for 45 minutes');
    await aaron.getByTestId('approve-button').click();
    await aaron.getByTestId('toast').first().waitFor();
  });

  await step("the requester's dashboard shows the new grant without reloading", async () => {
    await rita.waitForFunction(() => document.querySelectorAll('[data-testid="grant-card"]').length >= 2, null, { timeout: 10_000 });
    const names = await rita.getByTestId('grant-role-name').allInnerTexts();
    assert.ok(names.some((n) => /Prod write/.test(n)), names.join(', '));
  });

  await step('an admin creates a role and a rule; the requester is offered it', async () => {
    await signIn(root, server.base, ADMIN.login, ADMIN.password);
    await root.goto(`${server.base}/admin/roles`);
    await root.getByTestId('role-form').waitFor();
    await root.getByTestId('role-name').fill('Prod audit');
    await root.getByTestId('role-max-duration').fill('60');
    await root.getByTestId('role-submit').click();
    await root.getByTestId('toast').first().waitFor();
    await checkA11y(root, 'the roles page');
    await root.goto(`${server.base}/admin/eligibility`);
    await root.getByTestId('rule-form').waitFor();
    await root.getByTestId('rule-role').selectOption({ label: 'Prod audit' });
    await root.getByTestId('rule-scope-type').selectOption('all');
    await root.getByTestId('rule-submit').click();
    await root.getByTestId('toast').first().waitFor();

    await rita.getByTestId('nav-request').click();
    await rita.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="request-role"] option')].some((o) => o.textContent.includes('Prod audit')),
      null,
      { timeout: 10_000 },
    );
  });
});

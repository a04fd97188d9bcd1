// The targets page with a cloud target, in a real browser against moto's IAM Identity Center
// (tests/e2e/services.mjs, set up with AWS's CLI). An admin creates an `aws_sso` target with
// its settings (a wrong instance ARN is refused on its field first), registers a permission
// set on an account as an entitlement, and tests the target: reachable with the server's
// credentials, the permission set exists, and the session duration it leaves is shown. axe-core
// checks every state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, signIn, ADMIN, pageSteps } from './harness.mjs';
import { startMoto } from './services.mjs';

let server, browser, moto, instance, store, account, ps;
const kit = pageSteps('targets-');

before(async () => {
  moto = await startMoto();
  const inst = moto.aws('sso-admin', 'list-instances').Instances[0];
  instance = inst.InstanceArn;
  store = inst.IdentityStoreId;
  moto.aws('organizations', 'create-organization', '--feature-set', 'ALL');
  account = moto.aws('organizations', 'create-account', '--email', 'prod@example.com', '--account-name', 'prod').CreateAccountStatus.AccountId;
  ps = moto.aws('sso-admin', 'create-permission-set', '--instance-arn', instance, '--name', 'ReadOnly', '--session-duration', 'PT2H').PermissionSet.PermissionSetArn;
  server = await startServer([], { env: moto.env });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
  moto?.stop();
});

test('admin: an aws_sso target and its permission set, created and tested from the page', async () => {
  const page = await kit.context(browser);
  const step = kit.step;
  const card = page.locator('[data-testid="target-card"]', { hasText: 'aws-prod' });

  await step(
    'the form asks for the AWS settings when the kind is aws_sso',
    async () => {
      await signIn(page, server.base, ADMIN.login, ADMIN.password);
      await page.goto(`${server.base}/admin/targets`);
      await page.getByTestId('target-form').waitFor();
      await page.locator('#target-kind').selectOption('aws_sso');
      await page.locator('#target-region').waitFor();
      assert.equal(await page.locator('#target-env').count(), 0, 'no connection URL for aws_sso');
    },
    [[page, 'targets: the aws_sso form']],
  );

  await step(
    'a wrong instance ARN is refused on its field',
    async () => {
      await page.locator('#target-name').fill('aws-prod');
      await page.locator('#target-region').fill('us-east-1');
      await page.locator('#target-instance').fill('arn:aws:iam::123456789012:role/admin');
      await page.locator('#target-store').fill(store);
      await page.getByTestId('target-submit').click();
      await page.locator('#target-instance[aria-invalid="true"]').waitFor();
      assert.equal(await card.count(), 0);
    },
    [[page, 'targets: a field error']],
  );

  await step(
    'with the right ARN the target is created, showing its instance',
    async () => {
      await page.locator('#target-instance').fill(instance);
      await page.locator('#target-principal').selectOption('email');
      await page.getByTestId('target-submit').click();
      await card.waitFor();
      const text = await card.innerText();
      assert.match(text, /aws_sso/);
      assert.match(text, /email/);
      assert.ok(text.includes(instance), text);
    },
    [[page, 'targets: the aws_sso target created']],
  );

  await step(
    'a permission set on an account is registered as its entitlement',
    async () => {
      await page.locator('#dbrole-target').selectOption({ label: 'aws-prod' });
      await page.locator('#dbrole-account').waitFor();
      assert.equal(await page.locator('#dbrole-name').count(), 0, 'no plain name for aws_sso');
      await page.locator('#dbrole-account').fill(account);
      await page.locator('#dbrole-ps').fill(ps);
      await page.getByTestId('db-role-submit').click();
      await card.locator('[data-testid="target-db-roles"]', { hasText: `${account}:${ps}` }).waitFor();
    },
    [[page, 'targets: the entitlement registered']],
  );

  await step(
    'Test connection reaches AWS, finds the permission set and shows its session duration',
    async () => {
      await card.getByTestId('target-test').click();
      const result = card.locator('[data-testid="target-test-result"][data-reachable="true"]');
      await result.waitFor();
      const text = await result.innerText();
      assert.match(text, /exists/);
      assert.match(await result.getByTestId('target-test-note').innerText(), /PT2H/);
    },
    [[page, 'targets: the aws_sso target tested']],
  );
});

// Screenshots of the main pages at desktop (1280 px) and phone (390 px) width, from a server
// seeded with the demo organisation. Run: scripts/screenshots.sh (writes docs/screenshots/).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, api, launch, signIn, REPO } from './harness.mjs';

const DEMO_PW = 'jitea-demo-pass';
const out = join(REPO, 'docs', 'screenshots');
mkdirSync(out, { recursive: true });

const server = await startServer(['--demo']);
const browser = await launch();
try {
  const client = api(server.base);
  // Some activity to show: alice holds a grant, carol waits for bob.
  const alice = await client.login('alice', DEMO_PW);
  const carol = await client.login('carol', DEMO_PW);
  const roles = await client.call('GET', '/roles', alice);
  const byName = (n) => roles.items.find((r) => r.role_name === n).id;
  await client.call('POST', '/requests', alice, { role_id: byName('Prod read-only'), requested_duration_minutes: 90, justification: 'Investigate INC-2041 slow queries' });
  await client.call('POST', '/requests', alice, { role_id: byName('Prod write'), requested_duration_minutes: 45, justification: 'Backfill missing order states' });
  const pending = await client.call('POST', '/requests', carol, { role_id: byName('Prod write'), requested_duration_minutes: 30, justification: 'Fix stuck payment batch 7781' });

  const shots = [
    ['login', null, '/login'],
    ['dashboard', 'alice', '/'],
    ['request', 'carol', '/request'],
    ['history', 'alice', '/history'],
    ['approvals', 'bob', '/approvals'],
    ['approval-detail', 'bob', `/approvals/${pending.id}`],
    ['admin-overview', 'admin', '/admin'],
    ['admin-roles', 'admin', '/admin/roles'],
    ['admin-eligibility', 'admin', '/admin/eligibility'],
    ['admin-users', 'admin', '/admin/users'],
    ['admin-directory', 'admin', '/admin/directory'],
    ['admin-audit', 'admin', '/admin/audit'],
  ];
  for (const [width, label] of [[1280, 'desktop'], [390, 'phone']]) {
    for (const [name, who, path] of shots) {
      const ctx = await browser.newContext({ viewport: { width, height: width > 500 ? 860 : 844 }, deviceScaleFactor: 1 });
      const page = await ctx.newPage();
      if (who) await signIn(page, server.base, who, DEMO_PW);
      await page.goto(`${server.base}${path}`);
      await page.waitForTimeout(800);
      const file = join(out, `${name}-${label}.png`);
      await page.screenshot({ path: file, fullPage: false });
      console.log(`wrote ${file}`);
      await ctx.close();
    }
  }
} finally {
  await browser.close();
  server.stop();
}

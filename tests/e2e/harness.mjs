// Browser end-to-end harness: starts the real `jitea` binary (serving the built web app) on a
// free port with a fresh SQLite database, seeds it over the API, and drives Debian's Chromium
// through playwright-core. Nothing here is mocked.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const toolsModules = process.env.JITEA_TOOLS_NODE_MODULES || join(process.env.HOME, '.cache/jitea/tools/node_modules');
const { chromium } = require(join(toolsModules, 'playwright-core'));

export const REPO = resolve(new URL('../..', import.meta.url).pathname);
export const ADMIN = { login: 'root', password: 'root-password-123' };
export const PW = 'a-long-test-password';

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/**
 * Starts `jitea serve` on a fresh SQLite database. `env` adds settings (an OIDC provider, a
 * directory...); `port` fixes the port when another server must know the address first.
 */
export async function startServer(extraArgs = [], { env = {}, port: fixedPort } = {}) {
  // Without a fixed port the server binds port 0 and says which one it got (a port picked
  // here first could be taken by another server before this one binds it).
  const port = fixedPort || 0;
  const dir = mkdtempSync(join(tmpdir(), 'jitea-e2e-'));
  const targetDir = process.env.CARGO_TARGET_DIR || join(process.env.HOME, '.cache/jitea/target');
  const bin = process.env.JITEA_BIN || join(targetDir, 'debug/jitea');
  const child = spawn(bin, ['serve', ...extraArgs], {
    env: {
      ...process.env,
      JITEA_BIND: `127.0.0.1:${port}`,
      JITEA_DATABASE_URL: `sqlite://${join(dir, 'jitea.db')}`,
      JITEA_DATA_DIR: dir,
      JITEA_WEB_DIR: process.env.JITEA_WEB_DIR || join(REPO, 'dist'),
      JITEA_BOOTSTRAP_ADMIN: `${ADMIN.login}:${ADMIN.password}`,
      JITEA_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await listeningAddress(child);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('jitea did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    stop() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads the server's "JITEA listening on http://ADDR" line; the rest of its output is dropped. */
function listeningAddress(child) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let found = false;
    child.stdout.on('data', (chunk) => {
      if (found) return;
      buffered += chunk.toString();
      const m = buffered.match(/JITEA listening on (http:\/\/\S+)/);
      if (m) {
        found = true;
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => found || reject(new Error(`jitea serve exited (${code}) before listening`)));
    setTimeout(() => found || reject(new Error('jitea did not start listening within 60 s')), 60_000).unref();
  });
}

/** A tiny API client for seeding (bearer tokens, like any script would use). */
export function api(base) {
  async function call(method, path, token, body) {
    const r = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    const json = text ? JSON.parse(text) : null;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return json;
  }
  return {
    call,
    async login(login, password) {
      return (await call('POST', '/auth/login', null, { login_name: login, password })).token;
    },
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Saves a screenshot of every open page when a test fails (kept for the CI log). */
export async function keepScreenshots(name, pages) {
  const dir = join(REPO, 'target', 'e2e-failures');
  mkdirSync(dir, { recursive: true });
  let i = 0;
  for (const p of pages) {
    try {
      await p.screenshot({ path: join(dir, `${name}-${i++}.png`), fullPage: true });
    } catch {}
  }
  return dir;
}

let axeSource;
/**
 * Runs axe-core (WCAG 2 A and AA rules) on the page as it is now and fails with the list of
 * violations, if any. The script is evaluated through the DevTools protocol, so the app's
 * strict Content-Security-Policy does not need loosening for the check.
 */
export async function checkA11y(page, label = page.url()) {
  if (!axeSource) {
    axeSource = readFileSync(join(toolsModules, 'axe-core', 'axe.min.js'), 'utf8');
  }
  const violations = await page.evaluate(async (src) => {
    if (!window.axe) {
      (0, eval)(src);
    }
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`);
  }, axeSource);
  if (violations.length > 0) {
    throw new Error(`accessibility violations on ${label}:\n${violations.join('\n')}`);
  }
  console.log(`axe-core (WCAG 2.1 A/AA): ${label}: 0 violations`);
  return violations.length;
}

/** Signs in through the login page. */
export async function signIn(page, base, login, password) {
  await page.goto(`${base}/login`);
  await page.getByTestId('login-user').waitFor();
  await checkA11y(page, 'the sign-in page');
  await page.getByTestId('login-user').fill(login);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  // Attached, not visible: on a phone the navigation is folded behind a toggle.
  await page.getByTestId('nav-dashboard').waitFor({ state: 'attached' });
}

/**
 * A test file's pages and steps: `context(browser)` opens a page that logs browser errors and
 * is remembered for screenshots; `step(name, fn, a11y)` runs `fn`, then checks each
 * [page, label] in `a11y` with axe, and on failure keeps screenshots of every page.
 */
export function pageSteps(prefix = '') {
  const pages = [];
  async function context(browser) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.log(`[browser error] ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && console.log(`[browser console] ${m.text()}`));
    pages.push(page);
    return page;
  }
  async function step(name, fn, a11y = []) {
    try {
      await fn();
      for (const [p, label] of a11y) {
        await p.waitForLoadState('networkidle').catch(() => {});
        await checkA11y(p, label);
      }
    } catch (e) {
      const dir = await keepScreenshots(`${prefix}${name.replace(/\W+/g, '-')}`, pages);
      e.message += `\n(screenshots kept in ${dir})`;
      throw e;
    }
  }
  return { pages, context, step };
}

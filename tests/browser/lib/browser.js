// Debian's Chromium driven by playwright-core: a fresh profile per browser
// session, sign-in, axe-core checks, screenshots and layout checks.

import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {chromium} from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const SCREENSHOTS = resolve(import.meta.dirname, '..', '..', '..', 'target', 'screenshots');
export const DESKTOP = {width: 1280, height: 800};
export const PHONE = {width: 360, height: 740};

/** One person's browser: its own profile, so its own cookies. */
export class Browser {
  static async open({viewport = DESKTOP, colorScheme = 'light'} = {}) {
    const profile = mkdtempSync(join(tmpdir(), 'assent-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      viewport,
      colorScheme,
    });
    const page = context.pages()[0] ?? await context.newPage();
    const browser = new Browser(context, page, profile);
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/.test(message.text())) browser.cspViolations.push(message.text());
      if (message.type() === 'error') browser.errors.push(message.text());
    });
    page.on('pageerror', (error) => browser.errors.push(String(error)));
    return browser;
  }

  constructor(context, page, profile) {
    this.context = context;
    this.page = page;
    this.profile = profile;
    this.cspViolations = [];
    this.errors = [];
  }

  async close() {
    await this.context.close();
    rmSync(this.profile, {recursive: true, force: true});
  }

  async signIn(gateway, token, hash = '') {
    const {page} = this;
    await page.goto(`${gateway.base}/${hash}`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', {name: 'Sign in'}).click();
    await page.locator('#top:not([hidden])').waitFor();
  }

  /** The value of the session cookie, as a raw `Cookie` header. */
  async cookieHeader() {
    const cookies = await this.context.cookies();
    const session = cookies.find((c) => c.name === 'assent_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    return `assent_session=${session.value}`;
  }

  /** axe-core in the page: no serious or critical violation. */
  async assertAccessible(label) {
    const {page} = this;
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${AXE}\n;undefined`);
    const result = await page.evaluate(() => window.axe.run(document, {resultTypes: ['violations']}));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), [],
      `${label}: accessibility violations`);
  }

  /** Nothing wider than the viewport: no horizontal scrolling. */
  async assertNoHorizontalScroll(label) {
    const {scrollWidth, clientWidth} = await this.page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    assert.ok(scrollWidth <= clientWidth, `${label}: scrollWidth ${scrollWidth} > clientWidth ${clientWidth}`);
  }

  async screenshot(name) {
    mkdirSync(SCREENSHOTS, {recursive: true});
    await this.page.evaluate(() => document.fonts.ready);
    await this.page.screenshot({path: join(SCREENSHOTS, `${name}.png`), fullPage: true});
  }

  assertClean(label) {
    assert.deepEqual(this.cspViolations, [], `${label}: Content-Security-Policy violations`);
  }
}

// Every screen at 1280 px and at 360 px: screenshots to look at, axe-core
// with no serious or critical violation (light and dark), no horizontal
// scrolling, approve and reject within reach on a phone. Then the audit
// chain, verified in the browser, catching an edited event.

import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {after, before, describe, test} from 'node:test';

import {Browser, DESKTOP, PHONE} from './lib/browser.js';
import {Gateway} from './lib/gateway.js';

const POLICY = `
default = "ask"

[[rule]]
name = "prod-deploys"
effect = "ask"
action = "deploy"
args = { env = "prod*" }
risk = "critical"
quorum = [{ group = "sre", min = 2 }, { group = "security", min = 1 }]

[[rule]]
name = "shell-commands"
effect = "ask"
action = "shell"
risk = "high"
`;

let gateway;
let alice;
let agent;
let deploy;

before(async () => {
  gateway = await Gateway.start({}, POLICY);
  alice = await gateway.token('alice', 'approver', ['sre']);
  const bob = await gateway.token('bob', 'approver', ['sre', 'security']);
  agent = await gateway.token('ci-bot', 'agent');
  // A history worth looking at: decided, rejected, expired and pending ones.
  for (const [i, outcome] of ['approve', 'reject', 'approve', 'approve', 'reject'].entries()) {
    const {approval} = await gateway.request(agent, {action: `job.${['build', 'test', 'lint'][i % 3]}`, args: {run: i}, summary: `Nightly job ${i}`});
    await gateway.review(bob, approval.id, {decision: outcome, reason: outcome === 'reject' ? 'flaky runner' : undefined,
      scope: i === 0 ? 'timeboxed' : 'once', ttl_seconds: i === 0 ? 3600 : undefined});
  }
  await gateway.request(agent, {action: 'report.send', args: {to: 'finance'}, timeout_seconds: 1});
  await gateway.request(agent, {action: 'cache.flush', summary: 'Flush the CDN cache for eu-west', risk: 'low',
    args: {region: 'eu-west', paths: ['/static/*', '/img/*']}, session_id: 'sess-42'});
  await gateway.request(agent, {action: 'db.migrate', summary: 'Add an index on payments.created_at',
    args: {database: 'payments', migration: '0042_add_created_at_index', online: true}});
  await gateway.request(agent, {action: 'shell', summary: 'Prune docker images on build-7',
    args: {command: 'ssh build-7 "docker image prune -af" && echo done > /tmp/prune.log', cwd: '/srv/ci'}});
  deploy = (await gateway.request(agent, {
    action: 'deploy', summary: 'Deploy billing v2.3.1 to prod',
    args: {service: 'billing', version: '2.3.1', env: 'prod-eu', replicas: 6},
    context: {diff_url: 'https://git.example.com/billing/compare/v2.3.0...v2.3.1', tests: 'passed'},
    session_id: 'sess-42', run_id: 'wf_abc123', labels: {team: 'payments'},
  })).approval;
  await gateway.review(bob, deploy.id, {decision: 'approve', reason: 'diff reviewed'});
});

after(async () => {
  await gateway?.stop();
});

const SCREENS = [
  ['queue', '#/queue', 'Queue'],
  ['detail', () => `#/approvals/${deploy.id}`, 'deploy'],
  ['history', '#/history', 'History'],
  ['grants', '#/grants', 'Grants'],
  ['audit', '#/audit', 'Audit'],
  ['insights', '#/insights', 'Insights'],
];

for (const [size, viewport] of [['desktop', DESKTOP], ['mobile', PHONE]]) {
  describe(`every screen at ${viewport.width} px`, () => {
    let browser;
    before(async () => {
      browser = await Browser.open({viewport});
    });
    after(async () => {
      await browser?.close();
    });

    test('sign-in', async () => {
      await browser.page.goto(gateway.base);
      await browser.page.getByLabel('API token').waitFor();
      await browser.assertAccessible(`sign-in ${size}`);
      await browser.assertNoHorizontalScroll(`sign-in ${size}`);
      await browser.screenshot(`signin-${size}`);
      await browser.page.getByLabel('API token').fill(gateway.admin);
      await browser.page.getByRole('button', {name: 'Sign in'}).click();
      await browser.page.getByRole('heading', {name: 'Queue'}).waitFor();
    });

    for (const [name, hash, heading] of SCREENS) {
      test(name, async () => {
        const {page} = browser;
        await page.goto(`${gateway.base}/${typeof hash === 'function' ? hash() : hash}`);
        await page.getByRole('heading', {name: heading}).first().waitFor();
        if (name === 'queue') await page.locator('.card').nth(3).waitFor();
        if (name === 'detail') await page.locator('.timeline li').nth(1).waitFor();
        if (name === 'history') await page.locator('.row').first().waitFor();
        if (name === 'grants') await page.locator('.grant').first().waitFor();
        if (name === 'audit') await page.getByText('Chain intact').waitFor();
        if (name === 'insights') await page.locator('svg.chart').first().waitFor();
        await browser.assertAccessible(`${name} ${size}`);
        await browser.assertNoHorizontalScroll(`${name} ${size}`);
        await browser.screenshot(`${name}-${size}`);
        browser.assertClean(`${name} ${size}`);
      });
    }

    if (size === 'mobile') {
      test('approve and reject are within reach on a phone', async () => {
        const {page} = browser;
        for (const hash of ['#/queue', `#/approvals/${deploy.id}`]) {
          await page.goto(`${gateway.base}/${hash}`);
          for (const name of ['Approve', 'Reject']) {
            const button = page.getByRole('button', {name, exact: true}).first();
            await button.scrollIntoViewIfNeeded();
            assert.ok(await button.isVisible() && await button.isEnabled(), `${name} on ${hash}`);
            const box = await button.boundingBox();
            assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `${name} fits: ${JSON.stringify(box)}`);
            assert.ok(box.height >= 24, `${name} is big enough to tap`);
          }
          await browser.assertNoHorizontalScroll(hash);
        }
      });
    }
  });
}

describe('dark theme', () => {
  test('queue and detail keep their contrast', async () => {
    const browser = await Browser.open({colorScheme: 'dark'});
    try {
      await browser.signIn(gateway, alice);
      await browser.page.locator('.card').nth(3).waitFor();
      await browser.assertAccessible('queue dark');
      await browser.screenshot('queue-dark');
      await browser.page.goto(`${gateway.base}/#/approvals/${deploy.id}`);
      await browser.page.locator('.timeline li').nth(1).waitFor();
      await browser.assertAccessible('detail dark');
      await browser.screenshot('detail-dark');
    } finally {
      await browser.close();
    }
  });
});

describe('audit', () => {
  test('the audit screen verifies the chain in the browser and finds an edited event', async () => {
    const browser = await Browser.open();
    try {
      const {page} = browser;
      const {approval} = await gateway.request(agent, {action: 'audit.me', args: {n: 1}});
      await gateway.review(alice, approval.id, {decision: 'approve', reason: 'fine'});
      await browser.signIn(gateway, gateway.admin, '#/audit');
      await page.getByText('Chain intact').waitFor();
      const count = (await gateway.ok('GET', '/v1/audit?limit=10000', gateway.admin)).items.length;
      assert.match(await page.locator('.chain').textContent(), new RegExp(`all ${count} events`));

      // Edit one event's data behind the gateway's back.
      const {seq} = (await gateway.ok('GET', `/v1/approvals/${approval.id}/events`, gateway.admin)).items[0];
      execFileSync('python3', ['-c', `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE events SET data = replace(data, 'audit.me', 'audit.you') WHERE seq = ?", (int(sys.argv[2]),))
db.commit()
`, gateway.database, String(seq)]);
      await page.getByRole('button', {name: 'Verify again'}).click();
      await page.getByText('Chain broken').waitFor();
      assert.match(await page.locator('.chain').textContent(),
        new RegExp(`at event ${seq}: its hash does not match its content`));
      browser.assertClean('audit');
    } finally {
      await browser.close();
    }
  });
});

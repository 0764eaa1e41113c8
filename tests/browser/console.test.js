// The console's main flows against the real gateway in real Chromium.

import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {Browser} from './lib/browser.js';
import {Gateway} from './lib/gateway.js';

let gateway;
let alice;
let bob;
let agent;
let browser;

before(async () => {
  gateway = await Gateway.start();
  alice = await gateway.token('alice', 'approver', ['sre']);
  bob = await gateway.token('bob', 'approver', ['sre']);
  agent = await gateway.token('ci-bot', 'agent');
  browser = await Browser.open();
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
});

/** The card of approval `id` in the queue. */
const card = (page, id) => page.locator(`.card[data-id="${id}"]`);

describe('the console', () => {
  test('the gateway prints where the console is', () => {
    assert.equal(gateway.consoleUrl, `${gateway.base}/`);
  });

  test('a wrong token is refused and a good one signs in', async () => {
    const {page} = browser;
    await page.goto(gateway.base);
    await page.getByLabel('API token').fill('assent_not-a-token');
    await page.getByRole('button', {name: 'Sign in'}).click();
    await page.getByText('That token is not valid').waitFor();
    await page.getByLabel('API token').fill(alice);
    await page.getByRole('button', {name: 'Sign in'}).click();
    await page.getByRole('heading', {name: 'Queue'}).waitFor();
    assert.equal(await page.locator('.me-name').textContent(), 'alice');
    await browser.cookieHeader();
  });

  test('a new approval appears within a second without reload, and the title counts it', async () => {
    const {page} = browser;
    await page.locator('#live-state[data-state="live"]').waitFor();
    const navigations = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const {approval} = await gateway.request(agent, {
      action: 'shell', summary: 'Clean the build cache',
      args: {command: 'rm -rf ./target && cargo build --release | tee build.log'}, risk: 'high',
    });
    await card(page, approval.id).waitFor({timeout: 1000});
    assert.deepEqual(navigations, [], 'no reload');
    assert.match(await page.title(), /^\(1\) Queue · Assent$/);
    const text = await card(page, approval.id).textContent();
    for (const part of ['shell', 'Clean the build cache', 'ci-bot', 'High risk', 'left', 'Needs one approval']) {
      assert.ok(text.includes(part), `the card shows ${part}: ${text}`);
    }
    assert.equal(await card(page, approval.id).locator('.c-program').first().textContent(), 'rm');
    await gateway.request(agent, {action: 'deploy', args: {service: 'billing', env: 'prod'}});
    await page.waitForFunction(() => document.title.startsWith('(2) '));
    assert.match(await page.locator('#pending-count').textContent(), /^2 pending$/);
  });

  test('a shell card shows each command the policy saw and marks a redirection that writes a file', async () => {
    const {page} = browser;
    const {approval} = await gateway.request(agent, {
      action: 'shell', summary: 'Save the status',
      args: {command: 'git status > /etc/passwd 2>&1 && ls 2>/dev/null'},
    });
    const shown = card(page, approval.id);
    await shown.waitFor();
    assert.equal(await shown.locator('.parts li').count(), 2);
    const writes = shown.locator('.redirect.writes');
    assert.equal(await writes.count(), 1, 'only the redirection to /etc/passwd writes a file');
    assert.match(await writes.textContent(), /> \/etc\/passwd writes a file/);
    assert.equal(await shown.locator('code.redirect').count(), 2, '2>&1 and 2>/dev/null are shown, unmarked');
    await shown.scrollIntoViewIfNeeded();
    await browser.screenshot('card-shell-parts');
  });

  test('approving with a reason wakes a waiting client and the card leaves', async () => {
    const {page} = browser;
    const {approval} = await gateway.request(agent, {action: 'deploy', summary: 'Ship v2', args: {version: '2.0.0'}});
    await card(page, approval.id).waitFor();
    const waiting = gateway.call('GET', `/v1/approvals/${approval.id}?wait=30s`, agent);
    await card(page, approval.id).getByRole('button', {name: 'Approve'}).click();
    await page.getByLabel('Reason').fill('release notes checked');
    await page.getByRole('button', {name: 'Approve', exact: true}).click();
    await page.locator('.decision-approved').waitFor();
    const woke = await waiting;
    assert.equal(woke.status, 200);
    assert.equal(woke.body.status, 'approved');
    assert.equal(woke.body.decision.reason, 'release notes checked');
    await page.getByRole('link', {name: 'Back to the queue'}).click();
    await page.getByRole('heading', {name: 'Queue'}).waitFor();
    assert.equal(await card(page, approval.id).count(), 0, 'the decided approval left the queue');
  });

  test('a decision made elsewhere takes the card out of the queue', async () => {
    const {page} = browser;
    const {approval} = await gateway.request(agent, {action: 'deploy', args: {n: 1}});
    await card(page, approval.id).waitFor();
    await gateway.review(bob, approval.id, {decision: 'reject', reason: 'not now'});
    await card(page, approval.id).waitFor({state: 'detached'});
  });

  test('rejecting needs a reason', async () => {
    const {page} = browser;
    const {approval} = await gateway.request(agent, {action: 'db.migrate', args: {to: 42}});
    await page.goto(`${gateway.base}/#/approvals/${approval.id}`);
    await page.getByRole('button', {name: 'Reject'}).click();
    await page.getByText('Give a reason to reject').waitFor();
    assert.equal(await page.getByLabel('Reason').getAttribute('aria-invalid'), 'true');
    assert.equal((await gateway.get(alice, approval.id)).status, 'pending', 'nothing was sent');
    await page.getByLabel('Reason').fill('needs a backup first');
    await page.getByRole('button', {name: 'Reject'}).click();
    await page.locator('.decision-rejected').waitFor();
    const decided = await gateway.get(alice, approval.id);
    assert.equal(decided.status, 'rejected');
    assert.equal(decided.decision.reason, 'needs a backup first');
  });

  test('of two reviewers deciding at once, the second is told who decided first', async () => {
    const second = await Browser.open();
    try {
      // Bob's page hears no events, so only the 409 can tell him.
      await second.page.route('**/v1/events*', (route) => route.abort());
      await second.signIn(gateway, bob);
      const {approval} = await gateway.request(agent, {action: 'deploy', args: {race: true}});
      await second.page.goto(`${gateway.base}/#/approvals/${approval.id}`);
      await browser.page.goto(`${gateway.base}/#/approvals/${approval.id}`);
      await second.page.getByRole('button', {name: 'Approve'}).waitFor();
      await browser.page.getByLabel('Reason').fill('first');
      await browser.page.getByRole('button', {name: 'Approve'}).click();
      await browser.page.locator('.decision-approved').waitFor();
      await second.page.getByRole('button', {name: 'Approve'}).click();
      const told = second.page.getByText('Someone else decided first');
      await told.waitFor();
      assert.match(await told.textContent(), /Approved by alice .*first/);

      // With the live stream, a reviewer still reading is told as it happens.
      await second.page.unroute('**/v1/events*');
      await second.page.goto(`${gateway.base}/#/queue`);
      await second.page.reload();
      await second.page.locator('#live-state[data-state="live"]').waitFor();
      const {approval: other} = await gateway.request(agent, {action: 'deploy', args: {race: 2}});
      await second.page.goto(`${gateway.base}/#/approvals/${other.id}`);
      await second.page.getByRole('button', {name: 'Approve'}).waitFor();
      await gateway.review(alice, other.id, {decision: 'reject', reason: 'too risky'});
      await second.page.getByText('Decided while you were reading').waitFor();
      second.assertClean('second browser');
    } finally {
      await second.close();
    }
  });

  test('the keyboard moves, opens and approves', async () => {
    const {page} = browser;
    await page.goto(`${gateway.base}/#/queue`);
    const {approval} = await gateway.request(agent, {action: 'keyboard.test', args: {key: 'a'}});
    await card(page, approval.id).waitFor();
    await page.locator('h1').click();
    await page.keyboard.press('j');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.id), approval.id, 'j selects the newest');
    await page.keyboard.press('a');
    await page.waitForFunction((id) => location.hash === `#/approvals/${id}?decide=approve`, approval.id);
    await page.waitForFunction(() => document.activeElement?.id === 'approve');
    await page.keyboard.press('Enter');
    await page.locator('.decision-approved').waitFor();
    assert.equal((await gateway.get(alice, approval.id)).status, 'approved');

    // Keys typed into a field are text, not shortcuts; `?` opens the help.
    await page.goto(`${gateway.base}/#/history`);
    await page.keyboard.press('/');
    await page.keyboard.type('ja');
    assert.equal(await page.locator('#f-text').inputValue(), 'ja');
    await page.locator('h1').click();
    await page.keyboard.press('?');
    await page.getByRole('dialog', {name: 'Keyboard shortcuts'}).waitFor();
    await page.keyboard.press('Escape');
  });

  test('a deep link opens the approval, through sign-in when needed', async () => {
    const {approval} = await gateway.request(agent, {action: 'deploy', summary: 'Deep link', args: {}});
    const fresh = await Browser.open();
    try {
      await fresh.page.goto(`${gateway.base}/#/approvals/${approval.id}`);
      await fresh.page.getByLabel('API token').fill(bob);
      await fresh.page.getByRole('button', {name: 'Sign in'}).click();
      await fresh.page.getByRole('heading', {name: 'deploy'}).waitFor();
      assert.equal(await fresh.page.evaluate(() => location.hash), `#/approvals/${approval.id}`);
      assert.ok((await fresh.page.locator('.detail-head').textContent()).includes('Deep link'));
      await fresh.page.getByRole('heading', {name: 'Timeline'}).waitFor();
      await fresh.page.locator('.timeline li').first().waitFor();
      assert.match(await fresh.page.locator('.timeline').textContent(), /Requested by ci-bot/);
    } finally {
      await fresh.close();
    }
  });

  test('history filters by status, action and text, and pages', async () => {
    const {page} = browser;
    for (let i = 0; i < 27; i += 1) {
      const {approval} = await gateway.request(agent, {action: 'batch.job', summary: `job ${i}`, args: {i}});
      if (i % 9 === 0) await gateway.review(bob, approval.id, {decision: 'reject', reason: `no ${i}`});
    }
    await page.goto(`${gateway.base}/#/history`);
    await page.getByLabel('Search this page').fill('');
    await page.getByLabel('Action (exact)').fill('batch.job');
    await page.getByRole('button', {name: 'Apply'}).click();
    await page.waitForFunction(() => location.hash.includes('action=batch.job'));
    await page.locator('.row').nth(24).waitFor();
    assert.equal(await page.locator('.row').count(), 25, 'a page holds 25');
    assert.ok((await page.locator('.row').first().textContent()).includes('job 26'), 'newest first');
    await page.getByRole('link', {name: 'Older →'}).click();
    await page.getByText('Page 2').waitFor();
    assert.equal(await page.locator('.row').count(), 2);
    assert.ok((await page.locator('.row').last().textContent()).includes('job 0'));
    await page.getByRole('link', {name: '← Newer'}).click();
    await page.getByText('Page 1').waitFor();
    assert.equal(await page.locator('.row').count(), 25);

    await page.getByLabel('Status').selectOption('rejected');
    await page.getByRole('button', {name: 'Apply'}).click();
    await page.waitForFunction(() => location.hash.includes('status=rejected'));
    await page.waitForFunction(() => document.querySelectorAll('.row').length === 3);
    const statuses = await page.locator('.row .status').allTextContents();
    assert.deepEqual(statuses, ['Rejected', 'Rejected', 'Rejected']);

    await page.getByLabel('Search this page').fill('job 18');
    await page.waitForFunction(() => document.querySelectorAll('.row').length === 1);
    assert.ok((await page.locator('.row').textContent()).includes('job 18'));
  });

  test('a grant says what it covers and can be revoked', async () => {
    const {page} = browser;
    const {approval} = await gateway.request(agent, {action: 'cache.flush', args: {region: 'eu'}, session_id: 'sess-42'});
    await page.goto(`${gateway.base}/#/approvals/${approval.id}`);
    await page.getByLabel('This session').check();
    assert.match(await page.locator('#scope-words').textContent(),
      /Approves \(or rejects\) cache\.flush with these exact args for session sess-42 for 24 h/);
    await page.getByLabel('For a while:').check();
    await page.getByLabel('Grant duration').selectOption('28800');
    assert.match(await page.locator('#scope-words').textContent(), /cache\.flush with these exact args from any session for 8 h/);
    await page.getByRole('button', {name: 'Approve'}).click();
    await page.locator('.decision-approved').waitFor();
    const [grant] = (await gateway.ok('GET', '/v1/grants', alice)).items;
    assert.equal(grant.approval_id, approval.id);

    await page.getByRole('link', {name: 'Grants'}).click();
    const item = page.locator(`li[data-id="${grant.id}"]`);
    await item.waitFor();
    assert.match(await item.locator('.covers').textContent(), /Approves cache\.flush with the exact args of its approval .* from any session\./);
    await item.getByRole('button', {name: 'Revoke'}).click();
    await item.getByRole('button', {name: 'Confirm revoke'}).click();
    await item.waitFor({state: 'detached'});
    assert.deepEqual((await gateway.ok('GET', '/v1/grants', alice)).items, []);
  });

  test('insights draw the figures', async () => {
    const {page} = browser;
    await page.getByRole('link', {name: 'Insights'}).click();
    await page.locator('.tiles').waitFor();
    assert.ok(await page.locator('svg.chart').count() >= 3, 'charts are drawn');
    assert.match(await page.locator('.tile').first().textContent(), /Pending now\s*\d+/);
    const pending = (await gateway.ok('GET', '/v1/stats', alice)).pending;
    assert.equal(await page.locator('.tile-value').first().textContent(), String(pending));
  });

  test('no Content-Security-Policy violation and no script error on the way', () => {
    browser.assertClean('main browser');
    assert.deepEqual(browser.errors.filter((e) => !/status of 40[139]|401|403|409/.test(e)), []);
  });
});

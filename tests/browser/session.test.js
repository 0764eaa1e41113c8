// Sessions from the browser's side: sign-out revokes the cookie on the
// server, cookie requests without the CSRF header are refused, and an
// expired session returns to sign-in and then to the same page.

import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {Browser} from './lib/browser.js';
import {Gateway} from './lib/gateway.js';

let gateway;
let alice;
let agent;

before(async () => {
  gateway = await Gateway.start({ASSENT_SESSION_TTL: '4s'});
  alice = await gateway.token('alice', 'approver');
  agent = await gateway.token('ci-bot', 'agent');
});

after(async () => {
  await gateway?.stop();
});

describe('sessions', () => {
  test('a cookie request without the CSRF header is refused', async () => {
    const browser = await Browser.open();
    try {
      await browser.signIn(gateway, alice);
      const {approval} = await gateway.request(agent, {action: 'deploy'});
      const refused = await browser.page.evaluate(async (id) => {
        const response = await fetch(`/v1/approvals/${id}/reviews`, {
          method: 'POST', headers: {'content-type': 'application/json'},
          body: JSON.stringify({decision: 'approve'}),
        });
        return {status: response.status, type: response.headers.get('content-type'), body: await response.json()};
      }, approval.id);
      assert.equal(refused.status, 403);
      assert.equal(refused.type, 'application/problem+json');
      assert.match(refused.body.detail, /^X-CSRF-Token/);
      const raw = await gateway.call('POST', `/v1/approvals/${approval.id}/reviews`, null, {decision: 'approve'},
        {cookie: await browser.cookieHeader()});
      assert.equal(raw.status, 403);
      assert.equal((await gateway.get(alice, approval.id)).status, 'pending');
    } finally {
      await browser.close();
    }
  });

  test('signing out ends the session on the server', async () => {
    const browser = await Browser.open();
    try {
      await browser.signIn(gateway, alice);
      const cookie = await browser.cookieHeader();
      assert.equal((await gateway.call('GET', '/v1/session', null, undefined, {cookie})).status, 200);
      await browser.page.getByRole('button', {name: 'Sign out'}).click();
      await browser.page.getByText('You have signed out.').waitFor();
      await browser.page.getByLabel('API token').waitFor();
      const after = await gateway.call('GET', '/v1/approvals', null, undefined, {cookie});
      assert.equal(after.status, 401, 'the old cookie no longer works');
      assert.equal((await browser.context.cookies()).filter((c) => c.name === 'assent_session').length, 0,
        'the browser forgot it');
    } finally {
      await browser.close();
    }
  });

  test('an expired session returns to sign-in and keeps the page', async () => {
    const browser = await Browser.open();
    try {
      const {page} = browser;
      await browser.signIn(gateway, alice, '#/history?status=pending');
      await page.getByRole('heading', {name: 'History'}).waitFor();
      assert.equal(await page.getByLabel('Status').inputValue(), 'pending');
      await page.getByText('Your session has ended').waitFor({timeout: 10000});
      assert.equal(await page.evaluate(() => location.hash), '#/history?status=pending');
      await page.getByLabel('API token').fill(alice);
      await page.getByRole('button', {name: 'Sign in'}).click();
      await page.getByRole('heading', {name: 'History'}).waitFor();
      assert.equal(await page.getByLabel('Status').inputValue(), 'pending', 'back where it was');
    } finally {
      await browser.close();
    }
  });

  test('a reason typed before the session ended is still there after signing in again', async () => {
    const browser = await Browser.open();
    try {
      const {page} = browser;
      const {approval} = await gateway.request(agent, {action: 'deploy', args: {keep: 'draft'}});
      await browser.signIn(gateway, alice, `#/approvals/${approval.id}`);
      await page.getByLabel('Reason').fill('half-written reason');
      await page.getByText('Your session has ended').waitFor({timeout: 10000});
      await page.getByLabel('API token').fill(alice);
      await page.getByRole('button', {name: 'Sign in'}).click();
      await page.getByLabel('Reason').waitFor();
      assert.equal(await page.getByLabel('Reason').inputValue(), 'half-written reason');
    } finally {
      await browser.close();
    }
  });
});

// Figures for docs/benchmarks.md (printed, never asserted): the bytes a
// first visit transfers, and how long a new approval takes to show — from
// its event reaching the page to its card in the DOM, and from the API's
// 201 to the card.

import assert from 'node:assert/strict';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, before, test} from 'node:test';

import {Browser, SCREENSHOTS} from './lib/browser.js';
import {Gateway} from './lib/gateway.js';

const APPROVALS = 30;

let gateway;
let browser;

before(async () => {
  gateway = await Gateway.start();
  browser = await Browser.open();
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
});

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

test('first load and time to show a new approval', async () => {
  const alice = await gateway.token('alice', 'approver');
  const agent = await gateway.token('ci-bot', 'agent');
  const {page, context} = browser;

  // Every byte on the wire for a first visit with an empty cache, from CDP.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', {cacheDisabled: true});
  const urls = new Map();
  const bytes = new Map();
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => bytes.set(e.requestId, e.encodedDataLength));
  await page.goto(gateway.base);
  await page.getByLabel('API token').waitFor();
  await page.waitForLoadState('networkidle');
  const assets = [...bytes].map(([id, n]) => ({url: new URL(urls.get(id)).pathname, bytes: n}));
  const firstLoad = assets.reduce((sum, a) => sum + a.bytes, 0);
  const resourceTiming = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return nav.transferSize + performance.getEntriesByType('resource').reduce((sum, r) => sum + r.transferSize, 0);
  });
  await cdp.send('Network.setCacheDisabled', {cacheDisabled: false});
  await page.getByLabel('API token').fill(alice);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.locator('#live-state[data-state="live"]').waitFor();
  await page.getByText('Nothing is waiting').waitFor();

  // The page notes when each card enters the DOM (wall clock, like the test's).
  await page.evaluate(() => {
    window.cardSeen = {};
    new MutationObserver(() => {
      for (const card of document.querySelectorAll('.card[data-id]')) {
        window.cardSeen[card.dataset.id] ??= Date.now();
      }
    }).observe(document.getElementById('main'), {childList: true, subtree: true});
  });
  const wall = [];
  for (let i = 0; i < APPROVALS; i += 1) {
    const {approval, at} = await gateway.request(agent, {action: 'deploy', summary: `measure ${i}`, args: {i}});
    await page.locator(`.card[data-id="${approval.id}"]`).waitFor();
    wall.push((await page.evaluate((id) => window.cardSeen[id], approval.id)) - at);
  }
  const eventToCard = await page.evaluate(() => performance.getEntriesByType('mark')
    .filter((m) => m.name.startsWith('assent:card:'))
    .map((card) => card.startTime - performance.getEntriesByName(`assent:event:${card.name.split(':')[2]}`)[0].startTime));
  assert.equal(eventToCard.length, APPROVALS, 'every card was marked');

  const figures = {
    browser: await page.evaluate(() => navigator.userAgent),
    first_load_bytes_cdp: firstLoad,
    first_load_bytes_resource_timing: resourceTiming,
    first_load_requests: assets.length,
    first_load_assets: assets,
    approvals: APPROVALS,
    event_to_card_ms: {p50: percentile(eventToCard, 50), p90: percentile(eventToCard, 90), max: Math.max(...eventToCard)},
    api_201_to_card_ms: {p50: percentile(wall, 50), p90: percentile(wall, 90), max: Math.max(...wall)},
  };
  mkdirSync(SCREENSHOTS, {recursive: true});
  writeFileSync(join(SCREENSHOTS, '..', 'console-figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`first load: ${firstLoad} bytes in ${assets.length} requests (CDP encodedDataLength); `
    + `${resourceTiming} bytes (Resource Timing transferSize)`);
  console.log(`event → card in DOM (performance.now): p50 ${figures.event_to_card_ms.p50.toFixed(1)} ms, `
    + `p90 ${figures.event_to_card_ms.p90.toFixed(1)} ms, max ${figures.event_to_card_ms.max.toFixed(1)} ms (${APPROVALS} approvals)`);
  console.log(`API 201 → card in DOM (wall clock): p50 ${figures.api_201_to_card_ms.p50} ms, `
    + `p90 ${figures.api_201_to_card_ms.p90} ms, max ${figures.api_201_to_card_ms.max} ms`);
});

// The real gateway binary, started on port 0 in a fresh data dir, plus a
// small API client for setting the scene (tokens, approvals, reviews).

import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {createInterface} from 'node:readline';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const BIN = resolve(ROOT, process.env.ASSENT_BIN ?? 'target/debug/assent');

export class Gateway {
  /** Starts `assent serve` and waits for its start-up lines. `env` adds ASSENT_*
   *  settings; `policy` is the text of a policy file. */
  static async start(env = {}, policy = null) {
    const dir = mkdtempSync(join(tmpdir(), 'assent-browser-'));
    const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')];
    if (policy) {
      writeFileSync(join(dir, 'policy.toml'), policy);
      args.push('--policy', join(dir, 'policy.toml'));
    }
    const child = spawn(BIN, args, {
      env: {...process.env, RUST_LOG: 'warn', ...env},
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const gateway = new Gateway(child, dir);
    const lines = createInterface({input: child.stderr});
    await new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line:\n${gateway.log.join('\n')}`)), 20000);
      child.once('exit', (code) => reject(new Error(`assent serve exited ${code}:\n${gateway.log.join('\n')}`)));
      lines.on('line', (line) => {
        gateway.log.push(line);
        const listening = line.match(/^assent listening on (http:\/\/\S+)$/);
        if (listening) gateway.base = listening[1];
        const console = line.match(/^assent console at (\S+)$/);
        if (console) {
          gateway.consoleUrl = console[1];
          clearTimeout(timer);
          resolvePromise();
        }
      });
    });
    gateway.admin = readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim();
    return gateway;
  }

  constructor(child, dir) {
    this.child = child;
    this.dir = dir;
    this.log = [];
    this.base = null;
    this.consoleUrl = null;
  }

  get database() {
    return join(this.dir, 'data', 'assent.db');
  }

  async stop() {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, {recursive: true, force: true});
  }

  /** {status, body, headers}; body is parsed JSON or null. */
  async call(method, path, token, body, headers = {}) {
    const response = await fetch(this.base + path, {
      method,
      headers: {
        ...(token ? {authorization: `Bearer ${token}`} : {}),
        ...(body === undefined ? {} : {'content-type': 'application/json'}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers};
  }

  async ok(method, path, token, body) {
    const answer = await this.call(method, path, token, body);
    if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  async token(name, role, groups = []) {
    return (await this.ok('POST', '/v1/tokens', this.admin, {name, role, groups})).token;
  }

  /** Creates a pending approval as `agent`; returns it and when the 201 arrived. */
  async request(agent, body) {
    const answer = await this.call('POST', '/v1/approvals', agent, body);
    const at = Date.now();
    if (answer.status !== 201) throw new Error(`create: ${answer.status} ${JSON.stringify(answer.body)}`);
    return {approval: answer.body, at};
  }

  async get(token, id) {
    return this.ok('GET', `/v1/approvals/${id}`, token);
  }

  async review(token, id, review) {
    return this.ok('POST', `/v1/approvals/${id}/reviews`, token, review);
  }
}

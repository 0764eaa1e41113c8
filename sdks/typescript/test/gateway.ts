/**
 * Runs the real `assent` binary for the tests: on port 0 (or a port the test
 * picked, to restart on), with a fresh data directory and an optional policy
 * file, and makes tokens through its API.
 */

import { type ChildProcessByStdio, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

import { AssentClient, type Approval } from "../src/index.js";

/** sdks/typescript (the tests run compiled, from .test-build/test/). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const REPO_ROOT = resolve(PACKAGE_ROOT, "..", "..");

export function binary(): string {
  const path = process.env["ASSENT_BIN"] || join(REPO_ROOT, "target", "debug", "assent");
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`no gateway binary at ${path}: build it with \`cargo build -p assent\` or set ASSENT_BIN`);
  }
  return path;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `assent-ts-${prefix}-`));
}

let counter = 0;
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A client that knows its principal's name and token. */
export class Named extends AssentClient {
  constructor(
    url: string,
    readonly token: string,
    readonly name: string,
  ) {
    super({ url, token });
  }
}

/** One `assent serve` process; `restart()` brings it back on the same address and data directory. */
export class Gateway {
  url = "";
  adminToken = "";
  readonly log: string[] = [];
  #process: ChildProcessByStdio<null, null, Readable> | undefined;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly policy: string | undefined,
  ) {}

  static async start(options: { port?: number; policy?: string; dataDir?: string } = {}): Promise<Gateway> {
    const gateway = new Gateway(options.dataDir ?? tempDir("data"), options.port ?? 0, options.policy);
    await gateway.start();
    gateway.adminToken = readFileSync(join(gateway.dataDir, "admin.token"), "utf8").trim();
    return gateway;
  }

  async start(): Promise<void> {
    const args = ["serve", "--listen", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir];
    if (this.policy !== undefined) args.push("--policy", this.policy);
    const child = spawn(binary(), args, { stdio: ["ignore", "ignore", "pipe"] });
    const lines = createInterface({ input: child.stderr });
    this.url = await new Promise<string>((done, fail) => {
      lines.on("line", (line) => {
        this.log.push(line);
        const found = /assent listening on (http:\/\/\S+)/.exec(line);
        if (found?.[1]) done(found[1]);
      });
      child.once("exit", (code) => fail(new Error(`the gateway exited (${code}) before listening:\n${this.log.join("\n")}`)));
    });
    this.#process = child;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.#process;
    if (!child) return;
    this.#process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.kill(signal);
    await exited;
  }

  /** Stops the process with `signal` and starts a new one on the same port. */
  async restart(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.port === 0) throw new Error("restart needs a fixed port");
    await this.stop(signal);
    await this.start();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A new token with `role`, made by the admin. */
  async token(role: string, name = unique(role), groups: string[] = []): Promise<string> {
    const response = await fetch(`${this.url}/v1/tokens`, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name, role, groups }),
    });
    if (!response.ok) throw new Error(`POST /v1/tokens: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { token: string }).token;
  }

  async principal(role: string, prefix: string): Promise<Named> {
    const name = unique(prefix);
    return new Named(this.url, await this.token(role, name), name);
  }
}

/** The newest pending approval `requester` made, waiting for it to appear. */
export async function pendingOf(reviewer: AssentClient, requester: string, timeoutMs = 10_000): Promise<Approval> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const page = await reviewer.list({ status: "pending", requester, limit: 1 });
    if (page.items[0]) return page.items[0];
    await new Promise((done) => setTimeout(done, 20));
  }
  throw new Error(`no pending approval from ${requester} appeared`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

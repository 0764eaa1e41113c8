/**
 * The README's examples run as written: each is type-checked with `tsc
 * --strict` and run with node in `ASSENT_EXAMPLE_DIR` (a fresh project where
 * run-tests.sh installed the packed tarball), else inside this package, where
 * `@assent/client` resolves to its own build.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";

import { Gateway, type Named, PACKAGE_ROOT, pendingOf } from "./gateway.js";

const run = promisify(execFile);

function tsBlocks(): string[] {
  const readme = readFileSync(join(PACKAGE_ROOT, "README.md"), "utf8");
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? "");
}

/** Type-checks and compiles every block in the example directory at once; resolves to the emitted modules. */
async function compileAll(): Promise<string[]> {
  const directory = process.env["ASSENT_EXAMPLE_DIR"] || join(PACKAGE_ROOT, ".test-build", "readme");
  mkdirSync(directory, { recursive: true });
  const sources = tsBlocks().map((code, index) => {
    const source = join(directory, `readme-${index}.mts`);
    writeFileSync(source, code);
    return source;
  });
  const tsc = join(PACKAGE_ROOT, "node_modules", "typescript", "bin", "tsc");
  const options = ["--strict", "--module", "nodenext", "--target", "es2022", "--lib", "es2022,dom"];
  const output = join(directory, "out");
  await run(process.execPath, [tsc, ...options, "--rootDir", directory, "--outDir", output, ...sources]).catch(
    (error: { stdout?: string }) => assert.fail(`the examples do not type-check:\n${error.stdout ?? ""}`),
  );
  return sources.map((_, index) => join(output, `readme-${index}.mjs`));
}

async function execute(module: string, gateway: Gateway, agent: Named): Promise<string> {
  const env = { ...process.env, ASSENT_URL: gateway.url, ASSENT_TOKEN: agent.token };
  const { stdout } = await run(process.execPath, [module], { env, timeout: 60_000 });
  return stdout;
}

describe("README examples", () => {
  let gateway: Gateway;
  let reviewer: Named;
  let modules: string[];

  before(async () => {
    [gateway, modules] = await Promise.all([Gateway.start(), compileAll()]);
    reviewer = await gateway.principal("approver", "alice");
  });
  after(async () => {
    await gateway.close();
  });

  for (const decision of ["approve", "reject"] as const) {
    it(`the first example prints who decided (${decision})`, async () => {
      assert.ok((tsBlocks()[0] ?? "").split("\n").length <= 14);
      const module = modules[0] ?? "";
      const agent = await gateway.principal("agent", "ci-bot");
      const running = execute(module, gateway, agent);
      const pending = await pendingOf(reviewer, agent.name);
      assert.deepEqual([pending.action, pending.args], ["deploy", { service: "billing", env: "prod" }]);
      if (decision === "approve") {
        await reviewer.approve(pending.id);
        assert.equal(await running, `approved by ${reviewer.name}\n`);
      } else {
        await reviewer.reject(pending.id, { reason: "freeze week" });
        assert.equal(await running, `rejected by ${reviewer.name}: freeze week\n`);
      }
    });
  }

  it("the gate example asks with the call's arguments", async () => {
    const module = modules[1] ?? "";
    const agent = await gateway.principal("agent", "ci-bot");
    const running = execute(module, gateway, agent);
    const pending = await pendingOf(reviewer, agent.name);
    assert.equal(pending.action, "shell");
    assert.deepEqual(pending.args, { command: "terraform apply", cwd: "infra" });
    await reviewer.approve(pending.id);
    assert.equal(await running, "");
  });
});

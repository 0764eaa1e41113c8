// A real MCP client (npm `@modelcontextprotocol/sdk`) calling one tool over
// stdio with a request timeout that progress notifications reset, for the
// MCP proxy's interop tests (crates/assent/tests/mcp_proxy.rs).
//
//   node mcp_ts_client.mjs TIMEOUT_MS TOOL ARGUMENTS_JSON -- CMD [ARG...]
//
// Prints one JSON line per thing that happened, as mcp_client.py does:
// {"server": ...}, {"progress", "message"}, {"result": ...} or
// {"error": "..."} when the request failed (a timeout, say).

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const emit = (record) => process.stdout.write(JSON.stringify(record) + "\n");

const [timeoutMs, tool, argumentsJson, separator, command, ...args] = process.argv.slice(2);
if (separator !== "--" || !command) {
  console.error("usage: mcp_ts_client.mjs TIMEOUT_MS TOOL ARGUMENTS_JSON -- CMD [ARG...]");
  process.exit(2);
}

const transport = new StdioClientTransport({ command, args, env: process.env });
const client = new Client({ name: "assent-interop-ts", version: "0" });
await client.connect(transport);
emit({ server: client.getServerVersion() });
try {
  const result = await client.callTool(
    { name: tool, arguments: JSON.parse(argumentsJson) },
    undefined,
    {
      timeout: Number(timeoutMs),
      resetTimeoutOnProgress: true,
      onprogress: ({ progress, message }) => emit({ progress, message }),
    },
  );
  emit({ result });
} catch (error) {
  emit({ error: String(error) });
}
await client.close();

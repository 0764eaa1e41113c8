"""A real MCP client (PyPI `mcp`) driving an MCP server over stdio, for the
MCP proxy's interop tests (crates/assent/tests/mcp_proxy.rs).

    python3 mcp_client.py PLAN_JSON -- CMD [ARG...]

PLAN_JSON: {"list_tools": bool, "calls": [{"tool", "arguments",
"cancel_on_progress": bool}]}. The script starts CMD with this process's
environment, connects (the client negotiates the protocol version itself),
then prints one JSON line per thing that happened, flushed at once, so the
test can act while a call waits:

    {"server": {...}, "protocol_version": "..."}
    {"tools": [...]}
    {"call": i, "progress": p, "message": "..."}
    {"call": i, "result": {...}}          (the CallToolResult as sent)
    {"call": i, "cancelled": true}        (after sending notifications/cancelled)
"""

import json
import os
import sys

import anyio
from mcp import Client, StdioServerParameters


def emit(record):
    print(json.dumps(record), flush=True)


async def call(client, index, spec):
    progressed = anyio.Event()

    async def on_progress(progress, total, message):
        emit({"call": index, "progress": progress, "message": message})
        progressed.set()

    result = None

    async def run():
        nonlocal result
        result = await client.call_tool(
            spec["tool"], spec.get("arguments", {}), progress_callback=on_progress
        )

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        if spec.get("cancel_on_progress"):
            await progressed.wait()
            # Abandoning the request makes the client send notifications/cancelled.
            group.cancel_scope.cancel()
    if result is None:
        emit({"call": index, "cancelled": True})
        # Give the cancellation time to reach the server before closing.
        await anyio.sleep(1)
    else:
        emit({"call": index, "result": result.model_dump(by_alias=True, exclude_none=True)})


async def main(plan, command):
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with Client(params) as client:
        info = client.server_info
        emit(
            {
                "server": info.model_dump(by_alias=True, exclude_none=True) if info else None,
                "protocol_version": client.protocol_version,
            }
        )
        if plan.get("list_tools"):
            tools, cursor = [], None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools.extend(t.model_dump(by_alias=True, exclude_none=True) for t in page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
            emit({"tools": tools})
        for index, spec in enumerate(plan.get("calls", [])):
            await call(client, index, spec)


if __name__ == "__main__":
    separator = sys.argv.index("--")
    anyio.run(main, json.loads(sys.argv[1]), sys.argv[separator + 1 :])

"""A small MCP server on the official Python SDK (PyPI `mcp`), which speaks
the stateless 2026-07-28 protocol as well as the `initialize` handshake,
for the MCP proxy's interop tests: run behind `assent mcp-proxy`, a client
that negotiates 2026-07-28 must work through the proxy as it does without.

    python3 mcp_modern_server.py
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("modern-demo")


@server.tool()
def echo(message: str) -> str:
    """Echoes back the input string."""
    return f"Echo: {message}"


@server.tool()
def add(a: int, b: int) -> str:
    """Adds two numbers."""
    return f"The sum of {a} and {b} is {a + b}."


if __name__ == "__main__":
    server.run("stdio")

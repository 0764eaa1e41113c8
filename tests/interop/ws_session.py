"""A JSON-RPC 2.0 session against Assent's /v1/ws with the `websockets` client.

Usage: ws_session.py WS_URL AGENT_TOKEN APPROVER_TOKEN

The agent subscribes to events, creates an approval, an approver reviews it
over a second connection, and the agent collects the event notifications
about it. Prints one JSON object; exits nonzero on any failure.
"""

import asyncio
import json
import sys

from websockets.asyncio.client import connect


class Session:
    def __init__(self, socket):
        self.socket = socket
        self.next_id = 1
        self.notifications = []

    async def call(self, method, params):
        request_id = self.next_id
        self.next_id += 1
        await self.socket.send(json.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 10))
            if message.get("method") == "event":
                self.notifications.append(message)
                continue
            if message.get("id") != request_id or message.get("jsonrpc") != "2.0":
                raise SystemExit(f"unexpected reply to {method}: {message}")
            if "error" in message:
                raise SystemExit(f"{method} failed: {message['error']}")
            return message["result"]

    async def event(self):
        if self.notifications:
            message = self.notifications.pop(0)
        else:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 10))
        if message.get("method") != "event" or "id" in message:
            raise SystemExit(f"expected an event notification, got {message}")
        return message["params"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def main(url, agent_token, approver_token):
    async with connect(url, additional_headers=bearer(agent_token)) as agent_socket, \
            connect(url, additional_headers=bearer(approver_token)) as approver_socket:
        agent = Session(agent_socket)
        approver = Session(approver_socket)
        subscription = await agent.call("events.subscribe", {})
        created = await agent.call("approvals.create",
                                   {"action": "deploy", "args": {"env": "prod"}})
        reviewed = await approver.call("approvals.review",
                                       {"id": created["id"], "decision": "approve"})
        events = []
        while not events or events[-1]["type"] != "approval.approved":
            events.append(await agent.event())
        print(json.dumps({
            "subscription": subscription["subscription"],
            "created": created["id"],
            "reviewed": reviewed["status"],
            "events": [e["type"] for e in events],
            "approval_ids": [e["approval_id"] for e in events],
            "seqs": [e["seq"] for e in events],
        }))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    asyncio.run(main(*sys.argv[1:]))

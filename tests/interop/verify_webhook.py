"""Verifies a captured Assent webhook delivery with the Standard Webhooks
reference library (PyPI `standardwebhooks`), which nobody on this project
wrote.

Usage: verify_webhook.py SECRET CAPTURE.json

CAPTURE.json: {"headers": {name: value}, "body": "<raw body>",
               "old": {"timestamp": "...", "signature": "..."}}
where "old" is the same body signed by Assent with a timestamp ten minutes
in the past. Prints one line per check; exits non-zero if the genuine
delivery does not verify or a forgery is accepted.
"""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def attempt(webhook, body, headers):
    try:
        webhook.verify(body, headers)
    except WebhookVerificationError as e:
        return f"rejected: {e}"
    return "accepted"


def main():
    secret, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        capture = json.load(f)
    webhook = Webhook(secret)
    headers, body = capture["headers"], capture["body"]

    event = webhook.verify(body, headers)
    print(f"verified: seq={event['seq']} type={event['type']}")

    seq = event["seq"]
    tampered = body.replace(f'"seq":{seq}', f'"seq":{seq + 1}', 1)
    assert tampered != body, "the body should carry its seq"
    tampered_result = attempt(webhook, tampered, headers)
    print(f"tampered body: {tampered_result}")

    old = dict(headers)
    old["webhook-timestamp"] = capture["old"]["timestamp"]
    old["webhook-signature"] = capture["old"]["signature"]
    old_result = attempt(webhook, body, old)
    print(f"old timestamp: {old_result}")

    if tampered_result == "accepted" or old_result == "accepted":
        sys.exit(1)


if __name__ == "__main__":
    main()

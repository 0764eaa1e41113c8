#!/bin/sh
# Usage: deploy.sh SERVICE ENV
# Rolls SERVICE out to ENV, but only once a person approves it in Assent.
set -eu
service="$1"
env="$2"

# `assent exec` asks the gateway (ASSENT_URL, ASSENT_TOKEN) and runs the
# command only when approved. Rejected, expired or cancelled, it exits 10,
# 11 or 12 without running it, and `set -e` stops the script here.
# The command below stands in for your real rollout.
assent exec --action "deploy.$service" --summary "Deploy $service to $env" --timeout 30m -- \
    sh -c 'echo "$1 -> $2" >> deployments.log' rollout "$service" "$env"

echo "deployed $service to $env"

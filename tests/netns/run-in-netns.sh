#!/bin/sh
# Runs a command inside a fresh network namespace of its own (only `lo`, brought up),
# then deletes the namespace. Everything inside uses 127.0.0.1 of that namespace, so an
# `opnsense-sim --nft-lockout` started there firewalls nothing outside it.
#
#   sudo tests/netns/run-in-netns.sh sh -c '
#     opnsense-sim --port 8443 --nft-lockout --ca-file /tmp/sim-ca.pem &
#     sleep 1; OPNSENSE_URL=https://127.0.0.1:8443 OPNSENSE_CA_FILE=/tmp/sim-ca.pem ... '
#
# Needs root, iproute2 (`ip`) and nftables (`nft`: apt-get install -y nftables).
set -eu
if [ "$#" -eq 0 ]; then
	echo "usage: $0 command [args...]" >&2
	exit 2
fi
ns="opnsense-sim-$$-$(date +%s)"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT INT TERM
ip -n "$ns" link set lo up
ip netns exec "$ns" "$@"

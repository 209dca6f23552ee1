#!/bin/sh
# Creates the files of a 3-node, 2-of-3 Tessera cluster for deploy/compose.yaml:
#   docker compose run --rm setup
# Runs in the tessera image as root. Writes, for each node, into its volume (mounted at
# /setup/<name>, the node's /var/lib/tessera):
#   config.yaml, peers.json, identity/ (every member's <name>_identity.json and its own
#   <name>_private.key), vault.key (raw 32 bytes), db/<name> (the vault), backups/
# and into /admin (./admin beside compose.yaml): peers.json, the client's request-signing key
# event_initiator.key (+ .identity.json) and the backup identity backup-identity.txt.
#
# A demonstration on one host: each vault key sits in the volume beside the vault it opens, and
# the backup identity is on the same machine. docs/deploy.md shows where each belongs.
set -eu
umask 077
TESSERA=${TESSERA:-tessera}
ADMIN=${ADMIN:-/admin}
SETUP=${SETUP:-/setup}
NATS_URL=${NATS_URL:-nats://nats:4222}
THRESHOLD=${THRESHOLD:-1}
NODES="node0 node1 node2"

if [ -e "$ADMIN/peers.json" ]; then
  echo "setup: $ADMIN/peers.json exists; this cluster is set up already (remove ./admin and the volumes to start over)" >&2
  exit 1
fi
cd "$ADMIN"
$TESSERA generate-peers -n 3 -o peers.json
$TESSERA generate-initiator -o .
age-keygen -o backup-identity.txt 2>/dev/null
RECIPIENT=$(age-keygen -y backup-identity.txt)
INITIATOR=$(sed -n 's/.*"public_key": *"\([0-9a-f]*\)".*/\1/p' event_initiator.identity.json)
CHAIN_CODE=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')

for n in $NODES; do
  d="$SETUP/$n"
  mkdir -p "$d/db" "$d/backups"
  cp peers.json "$d/peers.json"
  (cd "$d" && $TESSERA generate-identity -n "$n")
  head -c 32 /dev/urandom > "$d/vault.key"
  $TESSERA vault init --dir "$d/db/$n" --key-file "$d/vault.key"
  # relative paths are taken from the working directory: /var/lib/tessera in the container
  cat > "$d/config.yaml" <<CONFIG
environment: production
nats:
  url: $NATS_URL
  jetstream_replicas: 1
mpc_threshold: $THRESHOLD
event_initiator_algorithm: ed25519
event_initiator_pubkey: $INITIATOR
chain_code: $CHAIN_CODE
db_path: db
backup_enabled: true
backup_period_seconds: 300
backup_dir: backups
healthcheck:
  enabled: true
  address: ":8080"
tessera:
  vault:
    key_file: vault.key
  backup:
    recipients:
      - $RECIPIENT
    keep_chains: 4
CONFIG
done
# every node needs every member's public identity file
for n in $NODES; do
  for m in $NODES; do
    [ "$n" = "$m" ] || cp "$SETUP/$m/identity/${m}_identity.json" "$SETUP/$n/identity/"
  done
done
if [ "$(id -u)" = 0 ]; then
  # the nodes run as the image's user `node` (1000); ./admin stays with its owner on the host
  for n in $NODES; do chown -R 1000:1000 "$SETUP/$n"; done
  chown -R "$(stat -c %u:%g "$ADMIN")" "$ADMIN"
fi
echo "setup: 3 nodes, $((THRESHOLD + 1))-of-3; initiator public key $INITIATOR; backups to $RECIPIENT"

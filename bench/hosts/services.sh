#!/bin/bash
# The db, redis and s3 "hosts", configured as docs/deploy.md says (passwords, bound to their
# private address only).
set -euo pipefail
H=${HOSTS_DIR:-/tmp/opiniondesk-hosts}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PW=db-pw-$(cut -c1-8 /proc/sys/kernel/random/uuid)
mkdir -p "$H/db" && chmod 755 "$H" && chown postgres:postgres "$H/db"
echo "$PW" > "$H/db.pw"
su postgres -c "$PGBIN/initdb -D $H/db/data -A scram-sha-256 --pwfile=<(echo super-$PW) -U postgres >/dev/null"
cat >> "$H/db/data/postgresql.conf" <<CONF
listen_addresses = '10.77.0.20'
port = 5432
unix_socket_directories = ''
max_connections = 200
password_encryption = scram-sha-256
CONF
cat > "$H/db/data/pg_hba.conf" <<CONF
host opiniondesk opiniondesk 10.77.0.11/32 scram-sha-256
host opiniondesk opiniondesk 10.77.0.12/32 scram-sha-256
host all postgres 10.77.0.0/24 scram-sha-256
CONF
ip netns exec od-db su postgres -c "$PGBIN/pg_ctl -D $H/db/data -l $H/db/log -w start >/dev/null"
PGPASSWORD=super-$PW ip netns exec od-app1 psql -w -h 10.77.0.20 -U postgres -d postgres -qc "CREATE ROLE opiniondesk LOGIN PASSWORD '$PW'" -c "CREATE DATABASE opiniondesk OWNER opiniondesk"
echo db up
mkdir -p "$H/redis"
cat > "$H/redis/redis.conf" <<CONF
bind 10.77.0.21
port 6379
protected-mode yes
user default off
user opiniondesk on >redis-$PW ~* &* +@all
maxmemory 512mb
maxmemory-policy volatile-ttl
save ""
appendonly no
daemonize yes
logfile $H/redis/log
dir $H/redis
CONF
ip netns exec od-redis redis-server "$H/redis/redis.conf"
echo redis up
mkdir -p "$H/s3/data"
cat > "$H/s3/s3.json" <<CONF
{"identities": [{"name": "opiniondesk", "credentials": [{"accessKey": "odkey", "secretKey": "s3-$PW"}], "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
CONF
WEED=$ROOT/.venv/bin/weed
(cd "$H/s3" && TMPDIR=$H/s3 setsid ip netns exec od-s3 "$WEED" server -ip=10.77.0.22 -ip.bind=10.77.0.22 -dir="$H/s3/data" -master.telemetry=false -master.electionTimeout=2s -master.volumeSizeLimitMB=1024 -volume.max=100 -filer -s3 -s3.port=8333 -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$H/s3/s3.json" > "$H/s3/log" 2>&1 < /dev/null &)
for _ in $(seq 1 120); do
  ip netns exec od-app1 python3 -c "import socket; socket.create_connection(('10.77.0.22', 8333), 1)" 2>/dev/null && break
  sleep 0.5
done
echo s3 up

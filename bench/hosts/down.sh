#!/bin/bash
# Stop everything the drill started and remove its namespaces and bridge.
H=${HOSTS_DIR:-/tmp/opiniondesk-hosts}
[ -f "$H/nginx/nginx.pid" ] && kill "$(cat "$H/nginx/nginx.pid")" 2>/dev/null
for ns in app1 app2 s3 redis; do
  for pid in $(ip netns pids "od-$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
done
PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[ -d "$H/db/data" ] && ip netns exec od-db su postgres -c "$PGBIN/pg_ctl -D $H/db/data -m fast -w stop" >/dev/null 2>&1
sleep 1
for ns in app1 app2 s3 redis db; do
  for pid in $(ip netns pids "od-$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  ip netns del "od-$ns" 2>/dev/null
done
ip link del odbr 2>/dev/null
echo down

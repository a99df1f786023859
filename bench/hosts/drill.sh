#!/bin/bash
# docs/deploy.md on separate hosts, on one machine: network namespaces on a bridge stand for the
# hosts (db 10.77.0.20, redis .21, s3 .22, app1 .11, app2 .12; the proxy and the patient at
# 10.77.0.1), each service bound to its own address and reached with its own credentials, each
# app host with its own spool, static files and copy of the audit keys. Needs root (ip netns).
# bench/README.md, "Separate hosts", says what it checks; everything is removed at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export HOSTS_DIR=${HOSTS_DIR:-/tmp/opiniondesk-hosts}
finish() {
  status=$?
  if [ "$status" != 0 ] && [ -d "$HOSTS_DIR" ]; then  # the logs outlive the next run's rm
    kept="$HOSTS_DIR-failed-$(date +%Y%m%d-%H%M%S)"
    mkdir -p "$kept"
    (cd "$HOSTS_DIR" && find . -type f \( -name '*.log' -o -name log \) -exec cp --parents {} "$kept" \;)
    echo "drill FAILED ($status): the hosts' logs are kept in $kept" >&2
  fi
  "$here/down.sh"
}
trap finish EXIT
rm -rf "$HOSTS_DIR"
"$here/up.sh"
"$here/services.sh"
"$here/apps.sh"
for n in 1 2; do  # the app hosts answer
  for _ in $(seq 1 120); do
    ip netns exec od-app$n python3 -c "import urllib.request as u; u.urlopen(u.Request('http://10.77.0.1$n:8001/healthz/web', headers={'X-Forwarded-Proto': 'https', 'Host': '10.77.0.1'}), timeout=2)" 2>/dev/null && break
    sleep 0.5
  done
done
cd "$here/../.." && .venv/bin/python "$here/proxy.py" && .venv/bin/python "$here/journey.py"

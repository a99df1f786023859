#!/bin/bash
# Separate "hosts" as network namespaces on a bridge: db .20, redis .21, s3 .22, app1 .11, app2 .12;
# the proxy (nginx) and the browser-side client in the root namespace at 10.77.0.1.
set -euo pipefail
ip link add odbr type bridge 2>/dev/null || true
ip addr add 10.77.0.1/24 dev odbr 2>/dev/null || true
ip link set odbr up
declare -A IP=([db]=20 [redis]=21 [s3]=22 [app1]=11 [app2]=12)
for h in "${!IP[@]}"; do
  ip netns add "od-$h" 2>/dev/null || true
  # A namespace whose link went with a previous run's teardown (deleted asynchronously) gets a
  # new pair: the namespace's side is what counts, not the bridge's.
  if ! ip netns exec "od-$h" ip link show eth0 >/dev/null 2>&1; then
    ip link del "v-$h" 2>/dev/null || true
    ip link add "v-$h" type veth peer name eth0 netns "od-$h"
  fi
  ip link set "v-$h" master odbr up
  ip netns exec "od-$h" ip addr add "10.77.0.${IP[$h]}/24" dev eth0 2>/dev/null || true
  ip netns exec "od-$h" ip link set eth0 up
  ip netns exec "od-$h" ip link set lo up
done
echo bridge up

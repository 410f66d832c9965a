#!/usr/bin/env bash
# Reload against FRR's zebra (netns-lab/topology.sh "pair2", mesh-site's
# routes in zebra, OSPF over both tunnels):
#
#   lan-a -- a == gre-b   (tunnel b,   routes 10.98.0.0/24) == b -- lan-b
#              == gre-b-2 (tunnel b-2, routes 10.99.0.0/24) ==
#
#   1  reload adds those routes (a routes-only change): zebra has them, the
#      SAs stay
#   2  under a sampler reading zebra every ~0.1 s, reloads that change only
#      tunnel b-2 (another route, distance 20; then b-2 disabled; then
#      enabled again): 10.98.0.0/24 via gre-b is in every sample, zebra's
#      uptime of it never goes back, tunnel b keeps its SPIs and OSPF stays
#      Full on gre-b; b-2's routes follow each change
#
# usage: tests/netns/reload_frr.sh [MESH_SITE_BINARY]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
lab=$(dirname "$(readlink -f "$0")")/../../netns-lab
# shellcheck source=../../netns-lab/lib.sh
source "$lab/lib.sh"
# shellcheck source=../../netns-lab/topology.sh
source "$lab/topology.sh"

lab_init vtysh
frr_require
lab_find_binary "${1:-}"
TOPO_ZEBRA=1 # read by topology.sh
topo_up pair2
ns_a=${TOPO_NS[a]}
config=$LAB_DIR/site-a.toml

# set_tunnel NAME KEY=VALUE...: the keys of [tunnel.NAME] in site a's file
# set (VALUE as TOML) or, with an empty VALUE, removed.
set_tunnel() {
    "$LAB_PYTHON" - "$config" "$@" <<'PY'
import sys
path, name, pairs = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
out, inside = [], False
for line in open(path).read().splitlines():
    if line.startswith("["):
        inside = line.strip() == "[tunnel.%s]" % name
        out.append(line)
        if inside:
            out += ["%s = %s" % (k, v) for k, v in pairs.items() if v]
        continue
    if inside and line.split("=")[0].strip() in pairs:
        continue
    out.append(line)
open(path + ".new", "w").write("\n".join(out) + "\n")
PY
    mv "$config.new" "$config"
}
reload_a() {
    local out
    out=$(tmesh a reload 2>&1) || lab_die "reload refused: $out"
    lab_info "reload: $out"
}
# zebra_route PREFIX: "PROTOCOL DISTANCE UPTIME-SECONDS IFACES" of zebra's selected route, or "none"
zebra_route() {
    vty "$ns_a" "show ip route $1 json" | "$LAB_PYTHON" -c '
import json, sys
try:
    routes = json.load(sys.stdin).get(sys.argv[1]) or []
except ValueError:
    routes = []
r = next((r for r in routes if r.get("selected")), None)
if r is None:
    print("none")
else:
    h, m, s = (int(x) for x in r["uptime"].split(":")) if r["uptime"].count(":") == 2 else (10**6, 0, 0)
    print(r["protocol"], r["distance"], h * 3600 + m * 60 + s,
          ",".join(sorted(n.get("interfaceName", "?") for n in r.get("nexthops", []))))' "$1"
}
route_is() { [[ $(zebra_route "$1" | cut -d' ' -f1,2,4) == "$2" ]]; }
spis_b() { tmesh a status --json | "$LAB_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
t = next(t for t in d["tunnels"] if t["name"] == "b")
p = [p for p in d["peers"] if p["name"] == "b" and p["state"] == "established"]
print(" ".join([x["ike-spi-i"] + "/" + x["ike-spi-r"] for x in p] + sorted(s["spi"] for s in t["sas"])))'; }

lab_info "(1) routes added to both tunnels by a reload"
spis=$(spis_b)
set_tunnel b 'routes=["10.98.0.0/24"]'
set_tunnel b-2 'routes=["10.99.0.0/24"]'
reload_a
lab_wait 10 "10.98.0.0/24 via gre-b in zebra" route_is 10.98.0.0/24 "nhrp 10 gre-b"
lab_wait 10 "10.99.0.0/24 via gre-b-2 in zebra" route_is 10.99.0.0/24 "nhrp 10 gre-b-2"
[[ $(spis_b) == "$spis" ]] || lab_die "(1) tunnel b's SAs changed: $(spis_b), was $spis"
lab_info "(1) tunnel b: $spis"
# zebra counts uptime in whole seconds: one tick before the sampler starts
sleep 1.5

lab_info "(2) reloads touching only b-2, zebra sampled throughout"
sampler() {
    while :; do
        echo "$(date +%s.%N) $(zebra_route 10.98.0.0/24)"
        sleep 0.05
    done >>"$LAB_DIR/samples"
}
sampler &
sampler_pid=$!
lab_defer "kill $sampler_pid"
lab_wait 10 "the sampler's first samples" test -s "$LAB_DIR/samples"
set_tunnel b-2 'routes=["10.99.0.0/24", "10.97.0.0/24"]' route-distance=20
reload_a
lab_wait 10 "10.97.0.0/24 via gre-b-2 at distance 20" route_is 10.97.0.0/24 "nhrp 20 gre-b-2"
route_is 10.99.0.0/24 "nhrp 20 gre-b-2" || lab_die "(2) 10.99.0.0/24: $(zebra_route 10.99.0.0/24)"
set_tunnel b-2 disabled=true
reload_a
lab_wait 10 "b-2's routes gone from zebra" route_is 10.97.0.0/24 "none"
set_tunnel b-2 disabled=
reload_a
# shellcheck disable=SC2016 # evaluated by lab_wait at each try, not now
lab_wait 30 "tunnel b-2 up again" eval '[[ $(topo_tunnel_state a b-2) == up ]]'
lab_wait 10 "10.97.0.0/24 back via gre-b-2" route_is 10.97.0.0/24 "nhrp 20 gre-b-2"
sleep 1
kill "$sampler_pid"
wait "$sampler_pid" 2>/dev/null || true

frr_ospf_full "$ns_a" gre-b || lab_die "(2) OSPF on gre-b is no longer Full"
[[ $(spis_b) == "$spis" ]] || lab_die "(2) tunnel b's SAs changed: $(spis_b), was $spis"
"$LAB_PYTHON" - "$LAB_DIR/samples" <<'PY' || lab_die "(2) zebra lost or reset 10.98.0.0/24 during the reloads"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
bad = [r for r in rows if r[1:2] != ["nhrp"] or r[4:5] != ["gre-b"]]
uptimes = [int(r[3]) for r in rows if len(r) == 5]
resets = [(a, b) for a, b in zip(uptimes, uptimes[1:]) if b < a]
print("%d samples of 10.98.0.0/24 over %.1f s, uptime %s -> %s s; missing or elsewhere: %d, uptime going back: %d"
      % (len(rows), float(rows[-1][0]) - float(rows[0][0]), uptimes[0], uptimes[-1], len(bad), len(resets)),
      file=sys.stderr)
sys.exit(1 if bad or resets or len(rows) < 5 else 0)
PY
lab_info "PASS: reload_frr (tunnel b $spis throughout, its route never withdrawn from zebra)"

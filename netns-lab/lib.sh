# shellcheck shell=bash
# netns-lab/lib.sh: helpers shared by the lab scripts and tests/netns/*.sh.
# Source it, then call lab_init. Everything it creates is named with the
# sourcing shell's pid, lives in namespaces it created, and is undone on EXIT
# (also after a failure, Ctrl-C or TERM). The root namespace's interfaces and
# addresses are never touched.
#
# The two-site topology (lab_two_site_topology):
#
#   +--------------------+                            +--------------------+
#   | $LAN_A             |                            | $LAN_B             |
#   | lan0  10.1.0.2/24  |                            | lan0  10.2.0.2/24  |
#   +---------+----------+                            +---------+----------+
#             | veth                                            | veth
#   +---------+----------+                            +---------+----------+
#   | $SITE_A            |    underlay (veth pair)    | $SITE_B            |
#   | lan0  10.1.0.1/24  |                            | lan0  10.2.0.1/24  |
#   | wan0  192.0.2.1/24 +----------------------------+ wan0  192.0.2.2/24 |
#   | gre-b 172.16.1.1/30|  GRE in ESP in UDP 4500    | gre-a 172.16.1.2/30|
#   |  (mesh-site's TUN) | <========================> |  (mesh-site's TUN) |
#   +--------------------+                            +--------------------+
#
#   ESP SAs (static): a->b SPI 0x00002001, b->a SPI 0x00001001.
#
#   With LAB_IPV6=1 set before lab_two_site_topology, IPv6 stays on and the
#   same links also get fd00:1::/64 (lan-a: ::2, site-a: ::1), fd00:2::/64
#   (lan-b: ::2, site-b: ::1) and fd00:192::/64 on the underlay (::1, ::2);
#   every path below (bare underlay, wireguard-go, strongSwan, mesh-site's
#   static SAs) then carries both families. Without it IPv6 is off.
#
# Helpers echo what they run, in the style of WireGuard's tests/netns.sh:
#   pp CMD...        run CMD in the root namespace (only `ip netns add/del`)
#   n NS CMD...      run CMD inside namespace NS
#   ns_exec NS CMD.. the same, without the echo (polling, parsing)

# ---------------------------------------------------------------------------
# Output and failure

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_QUIET=${LAB_QUIET:-0}
# The system's python3 (stdlib only): a pyenv shim in PATH costs 0.5 s a call.
LAB_PYTHON=${LAB_PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || echo python3)}

if [[ -t 2 ]]; then
    _lab_c_cmd=$'\e[32m\e[1m' _lab_c_info=$'\e[36m\e[1m' _lab_c_bad=$'\e[31m\e[1m' _lab_c_off=$'\e[0m'
else
    _lab_c_cmd='' _lab_c_info='' _lab_c_bad='' _lab_c_off=''
fi

pretty() { # pretty NS|"" WORDS...
    ((LAB_QUIET)) && return 0
    local where=$1; shift
    echo "${_lab_c_cmd}[+] ${where:+$where: }${_lab_c_off}$*" >&2
}
pp() { pretty "" "$*"; "$@"; }
n() { local ns=$1; shift; pretty "$ns" "$*"; ip netns exec "$ns" "$@"; }
ns_exec() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
lab_info() { echo "${_lab_c_info}==> $*${_lab_c_off}" >&2; }

# Prints the message and the tail of every log of this run, keeps $LAB_DIR
# for a post-mortem, then exits 1 (the EXIT trap cleans up the rest).
lab_die() {
    echo "${_lab_c_bad}FAIL: $*${_lab_c_off}" >&2
    local log
    for log in "${LAB_DIR:-/nonexistent}"/*.log; do
        [[ -s $log ]] || continue
        echo "----- last lines of $(basename "$log") -----" >&2
        tail -n 25 "$log" >&2
    done
    if [[ -n ${LAB_DIR:-} ]]; then
        # shellcheck disable=SC2034 # read by the cleanup lab_init registers
        LAB_KEEP_DIR=1
        echo "(configs, logs and captures kept in $LAB_DIR)" >&2
    fi
    exit 1
}
# lab_skip WHY: exit 77, a skip for ctest; under CI (CI=true) a failure
# instead, since CI has root and every package tools/install-deps.sh installs.
lab_skip() {
    if [[ ${CI:-} == true ]]; then
        echo "${_lab_c_bad}FAIL: would skip under CI=true (CI has root and tools/install-deps.sh's packages): $*${_lab_c_off}" >&2
        exit 1
    fi
    echo "SKIP: $*" >&2
    exit 77
}

# ---------------------------------------------------------------------------
# Cleanup registry: lab_defer CMD... registers a command (one string, eval'd)
# to run at exit; they run last-registered first, each allowed to fail.

LAB_CLEANUP=()
lab_defer() { LAB_CLEANUP+=("$*"); }

lab_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    local i
    for ((i = ${#LAB_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${LAB_CLEANUP[i]}" >/dev/null 2>&1
    done
    LAB_CLEANUP=()
    return "$rc"
}

# lab_init [NEED...]: checks root and the commands named, makes the run's
# scratch directory $LAB_DIR, installs the traps, sets umask 077.
lab_init() {
    [[ $(id -u) -eq 0 ]] || lab_skip "needs root (network namespaces)"
    local c
    for c in ip "$LAB_PYTHON" "$@"; do
        command -v "$c" >/dev/null || lab_skip "needs $c"
    done
    trap lab_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # Keys, secrets and configs holding them are the owner's alone, or
    # mesh-site refuses them (docs/configuration.md, "Permissions").
    umask 077
    LAB_DIR=$(mktemp -d "/tmp/mesh-lab.$$.XXXXXX")
    lab_defer "[[ \${LAB_KEEP_DIR:-0} = 1 ]] || rm -rf '$LAB_DIR'"
}

# ---------------------------------------------------------------------------
# Namespaces, links, background processes

# lab_ns_add NS: a fresh namespace with lo up; at exit every process still in
# it is killed and it is deleted.
lab_ns_add() {
    local ns=$1
    pp ip netns add "$ns"
    lab_defer "lab_ns_del '$ns'"
    ns_exec "$ns" ip link set lo up
}

lab_ns_del() {
    local ns=$1 pids
    pids=$(ip netns pids "$ns" 2>/dev/null) || true
    if [[ -n $pids ]]; then
        # shellcheck disable=SC2086 # one pid a word
        kill $pids 2>/dev/null
        sleep 0.2
        pids=$(ip netns pids "$ns" 2>/dev/null) || true
        # shellcheck disable=SC2086 # one pid a word
        [[ -z $pids ]] || kill -9 $pids 2>/dev/null
    fi
    ip netns del "$ns" 2>/dev/null
    return 0
}

# lab_veth NS1 IF1 NS2 IF2: a veth pair made directly inside the namespaces.
lab_veth() {
    n "$1" ip link add "$2" type veth peer name "$4" netns "$3"
}

# lab_bg NAME NS CMD...: runs CMD in NS in the background, stdout and stderr
# to $LAB_DIR/NAME.log; its pid goes to LAB_PID[NAME]; killed at exit.
declare -gA LAB_PID=()
lab_bg() {
    local name=$1 ns=$2; shift 2
    pretty "$ns" "$* &    (log: $LAB_DIR/$name.log)"
    ip netns exec "$ns" "$@" >"$LAB_DIR/$name.log" 2>&1 &
    LAB_PID[$name]=$!
    lab_defer "lab_kill '$name'"
}

# lab_gateway_bg NAME NS CMD...: lab_bg for a VPN daemon (mesh-site,
# wireguard-go, charon), at nice LAB_GATEWAY_NICE when that is set. On this
# machine the LANs' hosts (iperf3, ping) share the gateways' two cores; on a
# real network they are other machines, so a benchmark may give every path's
# gateways the same head start over them (docs/lab.md, "Gateway priority").
LAB_GATEWAY_NICE=${LAB_GATEWAY_NICE:-}
lab_gateway_bg() {
    local name=$1 ns=$2; shift 2
    if [[ -n $LAB_GATEWAY_NICE ]]; then
        lab_bg "$name" "$ns" nice -n "$LAB_GATEWAY_NICE" "$@"
    else
        lab_bg "$name" "$ns" "$@"
    fi
}

# lab_kill NAME: TERM, then KILL after 3 s; waits for it to go.
lab_kill() {
    local name=$1 pid=${LAB_PID[$1]:-} i
    [[ -n $pid ]] || return 0
    unset "LAB_PID[$name]"
    # `wait` returns the process's status (143 for a ping killed by TERM):
    # under `set -e` that must not end the caller.
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 30; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    return 0
}

lab_alive() { local pid=${LAB_PID[$1]:-}; [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; }

# lab_wait SECONDS WHAT CMD...: polls CMD every 0.1 s until it succeeds;
# dies naming WHAT when SECONDS pass.
lab_wait() {
    local timeout=$1 what=$2; shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || lab_die "timed out after ${timeout}s waiting for $what"
        sleep 0.1
    done
}

# ---------------------------------------------------------------------------
# Keys

# lab_hex BYTES: BYTES random bytes as lower-case hex.
lab_hex() { od -An -tx1 -v -N"$1" /dev/urandom | tr -d ' \n'; }

# lab_key_bytes ALGORITHM: bytes of key-in/key-out (with the 4-byte salt for
# the AEADs), as [tunnel.NAME.static-sa] wants them (docs/configuration.md).
lab_key_bytes() {
    case $1 in
        aes-128-gcm) echo 20 ;;
        aes-256-gcm | chacha20-poly1305) echo 36 ;;
        aes-128-cbc) echo 16 ;;
        aes-256-cbc) echo 32 ;;
        *) lab_die "unknown algorithm $1" ;;
    esac
}
lab_is_cbc() { [[ $1 == *-cbc ]]; }

# ---------------------------------------------------------------------------
# The two-site topology (diagram at the top)

lab_two_site_names() {
    SITE_A=msl-site-a-$$ SITE_B=msl-site-b-$$ LAN_A=msl-lan-a-$$ LAN_B=msl-lan-b-$$
    UNDERLAY_A=192.0.2.1 UNDERLAY_B=192.0.2.2
    HOST_A=10.1.0.2 HOST_B=10.2.0.2
    UNDERLAY6_A=fd00:192::1 UNDERLAY6_B=fd00:192::2
    HOST6_A=fd00:1::2 HOST6_B=fd00:2::2
}

# Makes the four namespaces and their links; forwarding on in the sites,
# IPv6 off everywhere (no router solicitations or DAD in the counters)
# unless LAB_IPV6=1.
lab_two_site_topology() {
    lab_two_site_names
    local ns
    for ns in "$SITE_A" "$SITE_B" "$LAN_A" "$LAN_B"; do
        lab_ns_add "$ns"
        if [[ ${LAB_IPV6:-0} == 1 ]]; then
            # No DAD (addresses usable at once) and no router solicitations.
            ns_exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
                net.ipv6.conf.default.router_solicitations=0
        else
            ns_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        fi
    done
    lab_veth "$SITE_A" wan0 "$SITE_B" wan0
    lab_veth "$SITE_A" lan0 "$LAN_A" lan0
    lab_veth "$SITE_B" lan0 "$LAN_B" lan0

    n "$SITE_A" ip addr add $UNDERLAY_A/24 dev wan0
    n "$SITE_B" ip addr add $UNDERLAY_B/24 dev wan0
    n "$SITE_A" ip addr add 10.1.0.1/24 dev lan0
    n "$SITE_B" ip addr add 10.2.0.1/24 dev lan0
    n "$LAN_A" ip addr add $HOST_A/24 dev lan0
    n "$LAN_B" ip addr add $HOST_B/24 dev lan0
    for ns in "$SITE_A" "$SITE_B" "$LAN_A" "$LAN_B"; do
        ns_exec "$ns" ip link set lan0 up 2>/dev/null || true
        ns_exec "$ns" ip link set wan0 up 2>/dev/null || true
    done
    n "$LAN_A" ip route add default via 10.1.0.1
    n "$LAN_B" ip route add default via 10.2.0.1
    n "$SITE_A" sysctl -qw net.ipv4.ip_forward=1
    n "$SITE_B" sysctl -qw net.ipv4.ip_forward=1
    [[ ${LAB_IPV6:-0} == 1 ]] || return 0
    n "$SITE_A" ip -6 addr add $UNDERLAY6_A/64 dev wan0 nodad
    n "$SITE_B" ip -6 addr add $UNDERLAY6_B/64 dev wan0 nodad
    n "$SITE_A" ip -6 addr add fd00:1::1/64 dev lan0 nodad
    n "$SITE_B" ip -6 addr add fd00:2::1/64 dev lan0 nodad
    n "$LAN_A" ip -6 addr add $HOST6_A/64 dev lan0 nodad
    n "$LAN_B" ip -6 addr add $HOST6_B/64 dev lan0 nodad
    n "$LAN_A" ip -6 route add default via fd00:1::1
    n "$LAN_B" ip -6 route add default via fd00:2::1
    n "$SITE_A" sysctl -qw net.ipv6.conf.all.forwarding=1
    n "$SITE_B" sysctl -qw net.ipv6.conf.all.forwarding=1
}

# lab_lan_prefixes a|b: the site's LAN prefixes, comma-separated (IPv6 too
# with LAB_IPV6=1).
lab_lan_prefixes() {
    local v4=10.1.0.0/24 v6=fd00:1::/64
    [[ $1 == a ]] || v4=10.2.0.0/24 v6=fd00:2::/64
    if [[ ${LAB_IPV6:-0} == 1 ]]; then echo "$v4,$v6"; else echo "$v4"; fi
}

# lab_underlay_routes add|del: route the LANs over the bare underlay (no
# tunnel): the reference path and the topology's self-check.
lab_underlay_routes() {
    n "$SITE_A" ip route "$1" 10.2.0.0/24 via "$UNDERLAY_B" dev wan0
    n "$SITE_B" ip route "$1" 10.1.0.0/24 via "$UNDERLAY_A" dev wan0
    [[ ${LAB_IPV6:-0} == 1 ]] || return 0
    n "$SITE_A" ip -6 route "$1" fd00:2::/64 via "$UNDERLAY6_B" dev wan0
    n "$SITE_B" ip -6 route "$1" fd00:1::/64 via "$UNDERLAY6_A" dev wan0
}

# ---------------------------------------------------------------------------
# mesh-site

# lab_build: what a fresh Debian 12 needs (tools/install-deps.sh, idempotent),
# then build/tools/mesh-site (cmake and make, incremental). Needs root.
lab_build() {
    [[ $(id -u) -eq 0 ]] || { echo "building needs root (apt-get); run as root" >&2; exit 1; }
    lab_info "installing what is missing (tools/install-deps.sh) and building mesh-site in $LAB_ROOT/build"
    "$LAB_ROOT/tools/install-deps.sh" >&2
    cmake -S "$LAB_ROOT" -B "$LAB_ROOT/build" >&2
    make -C "$LAB_ROOT/build" -j"$(nproc)" mesh-site >&2
}

# lab_find_binary [PATH]: sets MESH_SITE from PATH, $MESH_SITE or the build tree.
lab_find_binary() {
    MESH_SITE=${1:-${MESH_SITE:-$LAB_ROOT/build/tools/mesh-site}}
    [[ -x $MESH_SITE ]] || lab_die "mesh-site binary not found or not executable: $MESH_SITE (build it, or pass its path)"
    MESH_SITE=$(realpath "$MESH_SITE")
}

# lab_write_site_configs ALGORITHM: $LAB_DIR/site-a.toml and site-b.toml with
# mirrored static SAs and fresh random keys. SA a->b has SPI 0x00002001, b->a
# 0x00001001. Overrides for negative tests: LAB_B_KEY_IN (hex), LAB_B_AUTH_KEY_IN.
lab_write_site_configs() {
    local alg=$1 bytes
    bytes=$(lab_key_bytes "$alg")
    LAB_ALG=$alg
    LAB_KEY_AB=$(lab_hex "$bytes") LAB_KEY_BA=$(lab_hex "$bytes")
    LAB_AUTH_AB='' LAB_AUTH_BA=''
    if lab_is_cbc "$alg"; then
        LAB_AUTH_AB=$(lab_hex 32) LAB_AUTH_BA=$(lab_hex 32)
    fi
    _lab_site_config a b 172.16.1.1/30 "$(lab_lan_prefixes b)" "$UNDERLAY_A" "$UNDERLAY_B" 0x00001001 0x00002001 \
        "$LAB_KEY_BA" "$LAB_KEY_AB" "$LAB_AUTH_BA" "$LAB_AUTH_AB" >"$LAB_DIR/site-a.toml"
    _lab_site_config b a 172.16.1.2/30 "$(lab_lan_prefixes a)" "$UNDERLAY_B" "$UNDERLAY_A" 0x00002001 0x00001001 \
        "${LAB_B_KEY_IN:-$LAB_KEY_AB}" "$LAB_KEY_BA" "${LAB_B_AUTH_KEY_IN:-$LAB_AUTH_AB}" "$LAB_AUTH_BA" \
        >"$LAB_DIR/site-b.toml"
    pretty "" "wrote $LAB_DIR/site-a.toml and site-b.toml ($alg, SPIs 0x00002001 a->b, 0x00001001 b->a)"
}

# _lab_site_config ME OTHER TUN_ADDR ROUTES LISTEN PEER SPI_IN SPI_OUT KEY_IN KEY_OUT AUTH_IN AUTH_OUT
# (ROUTES comma-separated)
# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
_lab_site_config() {
    local me=$1 other=$2
    local -A t_site=([name]=site-$me [listen]=$5 [control-socket]=$LAB_DIR/site-$me.sock)
    local -A t_peer=([address]=$6)
    local -A t_tunnel=([peer]=site-$other [interface]=gre-$other [address]=$3 [mode]=gre [routes]=$4)
    local -A t_sa=([enc-algorithm]=$LAB_ALG [spi-in]=$7 [spi-out]=$8 [key-in]=$9 [key-out]=${10})
    lab_is_cbc "$LAB_ALG" && t_sa+=([auth-algorithm]=sha256 [auth-key-in]=${11} [auth-key-out]=${12})
    echo "# mesh-site lab: site-$me of the two-site topology (netns-lab/lib.sh)"
    lab_toml_table site t_site name listen control-socket
    lab_toml_table "peer.site-$other" t_peer address
    lab_toml_table "tunnel.site-$other" t_tunnel peer interface address mode routes
    lab_toml_table "tunnel.site-$other.static-sa" t_sa enc-algorithm spi-in spi-out key-in key-out \
        auth-algorithm auth-key-in auth-key-out
}

# ---------------------------------------------------------------------------
# The one writer of mesh-site configurations (two-site static SAs, two-site
# IKEv2, netns-lab/topology.sh's sites): each table from an associative
# array, each value typed by its key.

# lab_toml_table NAME ARRAY KEY...: "[NAME]", then "KEY = VALUE" for each KEY
# the associative array ARRAY holds, in the order given.
lab_toml_table() {
    local name=$1 key
    local -n _lab_toml_values=$2
    shift 2
    printf '\n[%s]\n' "$name"
    for key in "$@"; do
        [[ -v _lab_toml_values[$key] ]] || continue
        echo "$key = $(_lab_toml_value "$name" "$key" "${_lab_toml_values[$key]}")"
    done
}

# _lab_toml_value TABLE KEY VALUE: VALUE as TOML: a list of strings for the
# list keys (VALUE comma-separated), bare for booleans and numbers, else a
# string (a static SA's enc-algorithm is one).
_lab_toml_value() {
    case $1.$2 in
        *.static-sa.spi-in | *.static-sa.spi-out) echo "$3" ;;
        *.static-sa.*) echo "\"$3\"" ;;
        *.routes | *.local-subnets | *.remote-subnets | *.dh-group | *.enc-algorithm | *.hash-algorithm | \
            *.enc-algorithms | *.auth-algorithms | *.pfs-group | *.split-include | *.dns) _lab_toml_list "$3" ;;
        *.passive | *.dpd-maximum-failures) echo "$3" ;;
        site.workers) if [[ $3 == auto ]]; then echo '"auto"'; else echo "$3"; fi ;;
        *) echo "\"$3\"" ;;
    esac
}

# _lab_toml_list "x,y" -> ["x", "y"]
_lab_toml_list() {
    local IFS=, items out='' i
    read -ra items <<<"$1"
    for i in "${items[@]}"; do out+="${out:+, }\"$i\""; done
    echo "[$out]"
}

# lab_toml_ike_defaults ARRAY: [profile.default] and [proposal.default] from
# ARRAY's dh-group, ike-enc, ike-hash, dpd-interval, dpd-maximum-failures,
# esp, esp-auth (written only when an esp is a CBC one) and pfs.
# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
lab_toml_ike_defaults() {
    local -n _lab_ike=$1
    local -A t_profile=([dh-group]=${_lab_ike[dh-group]} [enc-algorithm]=${_lab_ike[ike-enc]} [hash-algorithm]=${_lab_ike[ike-hash]})
    local -A t_proposal=([enc-algorithms]=${_lab_ike[esp]} [pfs-group]=${_lab_ike[pfs]})
    [[ -v _lab_ike[dpd-interval] ]] && t_profile+=([dpd-interval]=${_lab_ike[dpd-interval]})
    [[ -v _lab_ike[dpd-maximum-failures] ]] && t_profile+=([dpd-maximum-failures]=${_lab_ike[dpd-maximum-failures]})
    [[ ${_lab_ike[esp]} == *-cbc* ]] && t_proposal+=([auth-algorithms]=${_lab_ike[esp-auth]})
    lab_toml_table profile.default t_profile dh-group enc-algorithm hash-algorithm dpd-interval dpd-maximum-failures
    lab_toml_table proposal.default t_proposal enc-algorithms auth-algorithms pfs-group
}

# lab_site_ns SITE -> the site's namespace: LAB_SITE_NS[SITE] when a script
# names more sites than a and b (netns-lab/bench-hub.sh), else SITE_A or SITE_B.
declare -gA LAB_SITE_NS=()
lab_site_ns() {
    if [[ -n ${LAB_SITE_NS[$1]:-} ]]; then echo "${LAB_SITE_NS[$1]}"
    elif [[ $1 == a ]]; then echo "$SITE_A"
    else echo "$SITE_B"; fi
}
lab_site_ifname() { if [[ $1 == a ]]; then echo gre-b; else echo gre-a; fi; }
lab_site_far_lan() { if [[ $1 == a ]]; then echo 10.2.0.0/24; else echo 10.1.0.0/24; fi; }

# mesh CMD ARGS...: the mesh-site CLI against site a's or b's config:
#   mesh a status --json
mesh() {
    local site=$1 cmd=$2; shift 2
    ns_exec "$(lab_site_ns "$site")" "$MESH_SITE" "$cmd" -c "$LAB_DIR/site-$site.toml" "$@"
}

_lab_route_via() { ip -n "$1" -4 route show "$2" dev "$3" 2>/dev/null | grep -q .; }
_lab_tun_up() { # NS IFNAME: the interface exists, is up and has its address
    ip -n "$1" -o -4 addr show dev "$2" 2>/dev/null | grep -q inet &&
        ip -n "$1" link show dev "$2" 2>/dev/null | grep -q '[<,]UP[,>]'
}

# lab_site_start a|b: checks the config, runs the daemon, waits for its
# control socket to answer and its TUN to be up with its address and route.
lab_site_start() {
    local site=$1 ns ifname
    ns=$(lab_site_ns "$site") ifname=$(lab_site_ifname "$site")
    n "$ns" "$MESH_SITE" check-config -c "$LAB_DIR/site-$site.toml" >&2 ||
        lab_die "check-config rejected site-$site.toml"
    lab_gateway_bg "mesh-site-$site" "$ns" "$MESH_SITE" run -c "$LAB_DIR/site-$site.toml"
    lab_wait 10 "mesh-site (site-$site) to answer status" mesh "$site" status --json
    lab_wait 10 "$ifname in $ns to be up with its address" _lab_tun_up "$ns" "$ifname"
    lab_wait 10 "the route to the far LAN via $ifname in $ns" _lab_route_via "$ns" "$(lab_site_far_lan "$site")" "$ifname"
    lab_alive "mesh-site-$site" || lab_die "mesh-site (site-$site) exited"
}

lab_site_stop() { lab_kill "mesh-site-$1"; }

# lab_json a|b EXPR: evaluates a Python expression over site a's or b's
# `status --json` as d and prints it; returns 1 (saying why on stderr) when
# status does not answer, so it serves polling too. Helpers:
#   peer(), peers()       the first entry of "peers" (None when there is none), all of them
#   tunnel()              the first entry of "tunnels" (None when there is none)
#   sas(direction)        that tunnel's SAs of that direction
#   sa(direction, field)  the field summed over them
#   drops(direction)      every "*-drops" field of them, summed
#   top(name), tun(name)  a counter of the daemon's or the first tunnel's
#                         "counters" object (0 when absent)
lab_json() {
    local site=$1 expr=$2 json
    json=$(mesh "$site" status --json 2>/dev/null) || { echo "mesh-site status (site-$site) does not answer" >&2; return 1; }
    "$LAB_PYTHON" - "$expr" "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[2])
def peers():
    return d.get("peers") or []
def peer():
    return (peers() or [None])[0]
def tunnel():
    return (d.get("tunnels") or [None])[0]
def sas(direction):
    t = tunnel() or {}
    return [s for s in t.get("sas") or [] if s.get("direction") == direction]
def sa(direction, field):
    return sum(int(s[field]) for s in sas(direction))
def drops(direction):
    return sum(int(v) for s in sas(direction) for k, v in s.items() if k.endswith("-drops"))
def top(name):
    return int(d.get("counters", {}).get(name, 0))
def tun(name):
    return int((tunnel() or {}).get("counters", {}).get(name, 0))
print(eval(sys.argv[1]))
PY
}

# lab_drops a|b: every drop counter of the site that is not zero, for a
# failure's message: the daemon's "*-drops" counters (status' JSON, by path)
# and its tunnel interface's transmit and receive drops, which are the
# kernel's (a full TUN queue).
lab_drops() {
    local site=$1 json link
    json=$(mesh "$site" status --json 2>/dev/null) || json='{}'
    link=$(ip -n "$(lab_site_ns "$site")" -s -j link show dev "$(lab_site_ifname "$site")" 2>/dev/null) || link='[]'
    "$LAB_PYTHON" - "$site" "$json" "$link" <<'PY'
import json, sys
found = []
def walk(node, path):
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("-drops") and isinstance(value, int):
                if value:
                    found.append(f"{path}{key} {value}")
            else:
                walk(value, f"{path}{key}.")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk(value, f"{path}{i}.")
walk(json.loads(sys.argv[2]), "")
for link in json.loads(sys.argv[3]):
    stats = link.get("stats64", {})
    for way in ("rx", "tx"):
        if stats.get(way, {}).get("dropped"):
            found.append(f"{link['ifname']} kernel {way} dropped {stats[way]['dropped']}")
print(f"site-{sys.argv[1]} drops: " + (", ".join(found) or "none counted"))
PY
}

# lab_counters_settle a|b [EXPR]: waits (up to 15 s) until the site's
# counters stop moving: EXPR (lab_json's), by default the SA packet counters.
lab_counters_settle() {
    local site=$1 expr=${2:-'sa("in","packets"), sa("out","packets")'} prev='' cur i
    for ((i = 0; i < 50; i++)); do
        cur=$(lab_json "$site" "$expr")
        [[ $cur == "$prev" ]] && return 0
        prev=$cur
        sleep 0.3
    done
    lab_die "site-$site SA counters kept moving: $cur"
}

# ---------------------------------------------------------------------------
# Traffic

# lab_ping FROM_NS DEST COUNT [ping options...]: pings and prints the number of
# replies received (never fails by itself).
lab_ping() {
    local ns=$1 dst=$2 count=$3 out; shift 3
    pretty "$ns" "ping -c $count -i 0.05 -W 1 $* $dst"
    out=$(ip netns exec "$ns" ping -n -q -c "$count" -i 0.05 -W 1 "$@" "$dst" 2>&1) || true
    sed -n 's/.* \([0-9]\+\) \(packets \)\?received.*/\1/p' <<<"$out" | head -n1 | grep . || echo 0
}

# lab_ping_expect FROM_NS DEST COUNT [PING_OPTION...]: dies unless at least COUNT-1 replies come
# back (the first may be lost while ARP resolves).
lab_ping_expect() {
    local got
    got=$(lab_ping "$1" "$2" "$3" "${@:4}")
    ((got >= $3 - 1)) || lab_die "ping $2 from $1: $got of $3 replies"
    lab_info "ping $2 from $1: $got/$3 replies"
}

# lab_iperf_server NS: iperf3 server, one per namespace, killed at exit.
lab_iperf_server() {
    lab_bg "iperf3-server-$1" "$1" iperf3 -s -B "${2:-0.0.0.0}"
    lab_wait 5 "iperf3 server in $1" _lab_listening "$1" 5201
}
_lab_listening() { ip netns exec "$1" ss -Htln "sport = :$2" | grep -q .; }

# lab_iperf FROM_NS DEST SECONDS [iperf3 options...]: prints Gbit/s received.
lab_iperf() {
    local ns=$1 dst=$2 secs=$3 json; shift 3
    pretty "$ns" "iperf3 -c $dst -t $secs $*"
    json=$(ip netns exec "$ns" iperf3 -c "$dst" -t "$secs" -J "$@" 2>&1) ||
        { echo "$json" | tail -n 20 >&2; lab_die "iperf3 to $dst from $ns failed"; }
    "$LAB_PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' <<<"$json"
}

# ---------------------------------------------------------------------------
# wireguard-go between the two site namespaces: the reference in the same run.
# Its UAPI socket lives in the shared /var/run/wireguard, so the interfaces are
# named with the pid (wga<pid>, wgb<pid>) rather than both wg0.

lab_wireguard_up() {
    WG_A=wga$$ WG_B=wgb$$
    local key_a key_b
    key_a=$(wg genkey) key_b=$(wg genkey)
    echo "$key_a" >"$LAB_DIR/wg-a.key"
    echo "$key_b" >"$LAB_DIR/wg-b.key"
    lab_gateway_bg wireguard-go-a "$SITE_A" env WG_PROCESS_FOREGROUND=1 wireguard-go "$WG_A"
    lab_gateway_bg wireguard-go-b "$SITE_B" env WG_PROCESS_FOREGROUND=1 wireguard-go "$WG_B"
    lab_wait 5 "wireguard-go's $WG_A" test -S "/var/run/wireguard/$WG_A.sock"
    lab_wait 5 "wireguard-go's $WG_B" test -S "/var/run/wireguard/$WG_B.sock"
    n "$SITE_A" wg set "$WG_A" private-key "$LAB_DIR/wg-a.key" listen-port 51820 \
        peer "$(wg pubkey <<<"$key_b")" endpoint "$UNDERLAY_B:51820" allowed-ips "$(lab_lan_prefixes b),172.16.2.2/32"
    n "$SITE_B" wg set "$WG_B" private-key "$LAB_DIR/wg-b.key" listen-port 51820 \
        peer "$(wg pubkey <<<"$key_a")" endpoint "$UNDERLAY_A:51820" allowed-ips "$(lab_lan_prefixes a),172.16.2.1/32"
    n "$SITE_A" ip addr add 172.16.2.1/30 dev "$WG_A"
    n "$SITE_B" ip addr add 172.16.2.2/30 dev "$WG_B"
    n "$SITE_A" ip link set "$WG_A" up
    n "$SITE_B" ip link set "$WG_B" up
    n "$SITE_A" ip route add 10.2.0.0/24 dev "$WG_A"
    n "$SITE_B" ip route add 10.1.0.0/24 dev "$WG_B"
    [[ ${LAB_IPV6:-0} == 1 ]] || return 0
    n "$SITE_A" ip -6 route add fd00:2::/64 dev "$WG_A"
    n "$SITE_B" ip -6 route add fd00:1::/64 dev "$WG_B"
}

lab_wireguard_down() {
    lab_kill wireguard-go-a
    lab_kill wireguard-go-b
    ns_exec "$SITE_A" ip link del "$WG_A" 2>/dev/null || true
    ns_exec "$SITE_B" ip link del "$WG_B" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Helpers of the tests: both sites at once, captures, raw UDP

# lab_sites_start ALGORITHM: fresh configs, both daemons up.
lab_sites_start() {
    lab_write_site_configs "$1"
    lab_site_start a
    lab_site_start b
}

# lab_sites_stop: both daemons stopped and their TUNs gone.
lab_sites_stop() {
    lab_site_stop a
    lab_site_stop b
    lab_wait 5 "gre-b to go away" _lab_no_link "$SITE_A" gre-b
    lab_wait 5 "gre-a to go away" _lab_no_link "$SITE_B" gre-a
}
_lab_no_link() { ! ip -n "$1" link show dev "$2" >/dev/null 2>&1; }

# lab_capture_start NAME NS IFACE FILTER...: tcpdump to $LAB_DIR/NAME.pcap.
lab_capture_start() {
    local name=$1 ns=$2 iface=$3; shift 3
    lab_bg "$name" "$ns" tcpdump -n -U --immediate-mode -i "$iface" -w "$LAB_DIR/$name.pcap" "$@"
    lab_wait 5 "tcpdump $name to listen" grep -q "listening on" "$LAB_DIR/$name.log"
}
# lab_capture_stop NAME: stops it (tcpdump flushes on TERM).
lab_capture_stop() { sleep 0.3; lab_kill "$1"; }

# lab_pcap_udp_payloads FILE: the UDP payload of each IPv4 packet of a pcap
# (Ethernet or Linux cooked capture), as hex, one line per packet.
lab_pcap_udp_payloads() {
    "$LAB_PYTHON" - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
linktype = struct.unpack(end + "I", data[20:24])[0]
l2 = {1: 14, 113: 16, 276: 20}[linktype]
off = 24
while off + 16 <= len(data):
    caplen = struct.unpack(end + "I", data[off + 8:off + 12])[0]
    frame = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    ip = frame[l2:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    udp = ip[ihl:total]
    print(udp[8:].hex())
PY
}

# lab_udp_send NS DEST PORT: sends each hex line of stdin as one datagram
# from an ephemeral port of NS.
lab_udp_send() {
    pretty "$1" "python3: sendto $2:$3 one datagram per hex line of stdin"
    ip netns exec "$1" "$LAB_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
for line in sys.stdin:
    line = line.strip()
    if line:
        s.sendto(bytes.fromhex(line), (sys.argv[1], int(sys.argv[2]))); n += 1
print(n)' "$2" "$3"
}

# ---------------------------------------------------------------------------
# strongSwan between the two site namespaces, tunnel mode 10.1.0.0/24 <->
# 10.2.0.0/24, PSK, the ESP proposal given (e.g. aes128gcm16): a second
# reference beside wireguard-go (docs/lab.md), on the harness the interop
# tests use (lab_charon_start, lab_swanctl_psk_conf below).

# lab_strongswan_up [ESP_PROPOSAL]: both charons, the CHILD SA initiated
# from site-a, waits until LAN-to-LAN pings pass.
lab_strongswan_up() {
    local esp=${1:-aes128gcm16} psk site
    psk=$(lab_hex 16)
    for site in a b; do
        lab_charon_start "$site"
        lab_swanctl_psk_conf "$site" "$psk" "" "$esp"
    done
    lab_swanctl a --initiate --child lan --timeout 10 >"$LAB_DIR/swanctl-initiate.log" 2>&1 ||
        lab_die "strongSwan did not establish (see $LAB_DIR/strongswan-*.log)"
    lab_wait 10 "LAN-to-LAN over strongSwan" _lab_ping_once "$LAN_A" "$HOST_B"
}
_lab_ping_once() { ip netns exec "$1" ping -n -q -c 1 -W 1 "$2"; }

lab_strongswan_down() {
    lab_charon_stop a
    lab_charon_stop b
}

# ---------------------------------------------------------------------------
# IKEv2 with a pre-shared key: mesh-site keys its own SAs (no static-sa).
#
# lab_write_ike_configs [SETTING=VALUE...]: $LAB_DIR/site-a.toml and
# site-b.toml of the two-site topology, each with one peer (the other site,
# auth-method "pre-shared-key", my-id fqdn:site-X.lab) and one tunnel. A
# setting applies to both sites; prefixed "a." or "b." to that site only
# (b.passive=true, b.secret=wrong, a.esp=aes-256-gcm). Lists are
# comma-separated. Settings and their defaults:
#   mode=gre          gre: GRE over transport-mode ESP, interface gre-<other>,
#                     172.16.1.1/30 and .2/30, routes = [the far LAN];
#                     ip: tunnel-mode ESP, interface tun-<other>, no address,
#                     local-subnets/remote-subnets = the two LANs
#   secret=...        the pre-shared key (default: fresh random hex, the same
#                     for both sites)
#   passive=false
#   dh-group=ecp256  ike-enc=aes-256-gcm  ike-hash=sha256     ([profile.default])
#   esp=aes-128-gcm  esp-auth=sha256  pfs=none                ([proposal.default];
#                     auth-algorithms written only when an esp is a CBC one)
#   my-id, remote-id  (default fqdn:site-<me>.lab and fqdn:site-<other>.lab)
#   encapsulation=udp
#   routes=...        the tunnel's static routes (default: the far LAN in
#                     mode gre, none in mode ip, where remote-subnets are
#                     routed over the interface by the daemon itself)
#   mode-config=request   the peer asks for its address (mode config); the
#                     tunnel has no address and, in mode ip, no local-subnets
#   address-pool=...  the site serves mode config: [mode-config.pool] with this
#                     address-pool, split-include = its LAN (and dns= if set);
#                     the peer has mode-config = "pool", the mode ip tunnel no remote-subnets
#   address=...       the peer's address as written (default: the other site's
#                     underlay address); a DNS name takes resolve-interval=...
#   listen=any        no listen key: the daemon listens on any address
# The tunnel's interface name lands in LAB_IKE_IF[a] and LAB_IKE_IF[b].
declare -gA LAB_IKE_IF=()
lab_write_ike_configs() {
    lab_two_site_names
    local -A set=(
        [mode]=gre [secret]=$(lab_hex 16) [passive]=false [dh-group]=ecp256 [ike-enc]=aes-256-gcm
        [ike-hash]=sha256 [esp]=aes-128-gcm [esp-auth]=sha256 [pfs]=none [encapsulation]=udp
    )
    local -A only_a=() only_b=()
    local arg key
    for arg in "$@"; do
        [[ $arg == *=* ]] || lab_die "lab_write_ike_configs: '$arg' is not SETTING=VALUE"
        key=${arg%%=*}
        case $key in
            a.*) only_a[${key#a.}]=${arg#*=} ;;
            b.*) only_b[${key#b.}]=${arg#*=} ;;
            *) set[$key]=${arg#*=} ;;
        esac
    done
    local site other
    for site in a b; do
        local -A mine=()
        for key in "${!set[@]}"; do mine[$key]=${set[$key]}; done
        if [[ $site == a ]]; then
            for key in "${!only_a[@]}"; do mine[$key]=${only_a[$key]}; done
            other=b
        else
            for key in "${!only_b[@]}"; do mine[$key]=${only_b[$key]}; done
            other=a
        fi
        for key in "${!mine[@]}"; do
            case $key in
                mode | secret | passive | dh-group | ike-enc | ike-hash | esp | esp-auth | pfs | my-id | remote-id | encapsulation | routes | \
                    mode-config | address-pool | dns | address | listen | resolve-interval) ;;
                *) lab_die "lab_write_ike_configs: unknown setting '$key'" ;;
            esac
        done
        case ${mine[mode]} in
            gre) LAB_IKE_IF[$site]=gre-$other ;;
            ip) LAB_IKE_IF[$site]=tun-$other ;;
            *) lab_die "lab_write_ike_configs: mode must be gre or ip, not '${mine[mode]}'" ;;
        esac
        _lab_ike_site_config "$site" "$other" mine >"$LAB_DIR/site-$site.toml"
        unset mine
    done
    pretty "" "wrote $LAB_DIR/site-a.toml and site-b.toml (IKEv2 PSK; $(sed -E 's/((^| )([ab]\.)?secret=)[^ ]*/\1.../g' <<<"$*"))"
}

# _lab_ike_site_config ME OTHER SETTINGS_ARRAY_NAME
# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
_lab_ike_site_config() {
    local me=$1 other=$2
    local -n s=$3
    local listen peer_address my_lan far_lan tun_addr
    if [[ $me == a ]]; then
        listen=$UNDERLAY_A peer_address=$UNDERLAY_B my_lan=10.1.0.0/24 far_lan=10.2.0.0/24 tun_addr=172.16.1.1/30
    else
        listen=$UNDERLAY_B peer_address=$UNDERLAY_A my_lan=10.2.0.0/24 far_lan=10.1.0.0/24 tun_addr=172.16.1.2/30
    fi
    [[ ${s[listen]-} != any ]] || listen=''
    local -A t_site=([name]=site-$me [control-socket]=$LAB_DIR/site-$me.sock)
    [[ -z $listen ]] || t_site+=([listen]=$listen)
    local -A t_peer=(
        [address]=${s[address]-$peer_address} [passive]=${s[passive]} [profile]=default [auth-method]=pre-shared-key
        [secret]=${s[secret]} [my-id]=${s[my-id]:-fqdn:site-$me.lab} [remote-id]=${s[remote-id]:-fqdn:site-$other.lab}
        [encapsulation]=${s[encapsulation]}
    )
    local -A t_tunnel=([peer]=site-$other [proposal]=default [interface]=${LAB_IKE_IF[$me]} [mode]=${s[mode]})
    local -A t_mode_config=()
    if [[ -v s[address-pool] ]]; then
        t_mode_config=([address-pool]=${s[address-pool]} [split-include]=$my_lan)
        [[ -z ${s[dns]-} ]] || t_mode_config+=([dns]=${s[dns]})
        t_peer+=([mode-config]=pool)
    fi
    [[ ${s[mode-config]-} != request ]] || t_peer+=([mode-config]=request)
    [[ -z ${s[resolve-interval]-} ]] || t_peer+=([resolve-interval]=${s[resolve-interval]})
    if [[ ${s[mode]} == gre ]]; then
        [[ ${s[mode-config]-} == request ]] || t_tunnel+=([address]=$tun_addr)
        t_tunnel+=([routes]=${s[routes]-$far_lan})
    else
        [[ ${s[mode-config]-} == request ]] || t_tunnel+=([local-subnets]=$my_lan)
        [[ -v s[address-pool] ]] || t_tunnel+=([remote-subnets]=$far_lan)
        [[ -z ${s[routes]-} ]] || t_tunnel+=([routes]=${s[routes]})
    fi
    echo "# mesh-site lab: site-$me of the two-site topology (netns-lab/lib.sh), IKEv2 PSK"
    lab_toml_table site t_site name listen control-socket
    lab_toml_ike_defaults s
    ((${#t_mode_config[@]} == 0)) || lab_toml_table mode-config.pool t_mode_config address-pool split-include dns
    lab_toml_table "peer.site-$other" t_peer address passive profile auth-method secret my-id remote-id encapsulation \
        mode-config resolve-interval
    lab_toml_table "tunnel.site-$other" t_tunnel peer proposal interface mode address local-subnets remote-subnets routes
}

# lab_ike_site_start a|b: checks the config, runs the daemon and waits for its
# control socket to answer (the tunnel comes up later: lab_wait_tunnel_up).
lab_ike_site_start() {
    local site=$1 ns
    ns=$(lab_site_ns "$site")
    n "$ns" "$MESH_SITE" check-config -c "$LAB_DIR/site-$site.toml" >&2 ||
        lab_die "check-config rejected site-$site.toml"
    lab_gateway_bg "mesh-site-$site" "$ns" "$MESH_SITE" run -c "$LAB_DIR/site-$site.toml"
    lab_wait 10 "mesh-site (site-$site) to answer status" mesh "$site" status --json
    lab_alive "mesh-site-$site" || lab_die "mesh-site (site-$site) exited"
}

# lab_ike_site_stop a|b: SIGTERM to the site's daemon (which sends its
# Deletes then); dies unless it exits with status 0 within 5 s: a crash or a
# hang on the way out is a bug too.
lab_ike_site_stop() {
    local site=$1 name=mesh-site-$1 pid rc=0 i
    pid=${LAB_PID[$name]:-}
    [[ -n $pid ]] || return 0
    unset "LAB_PID[$name]"
    pretty "$(lab_site_ns "$site")" "kill -TERM mesh-site (site-$site)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        lab_die "mesh-site (site-$site) still running 5 s after SIGTERM (killed)"
    fi
    wait "$pid" 2>/dev/null || rc=$?
    if ((rc > 128)); then
        lab_die "mesh-site (site-$site) died of signal $((rc - 128)) (SIG$(kill -l $((rc - 128)))) after SIGTERM"
    elif ((rc != 0)); then
        lab_die "mesh-site (site-$site) exited with status $rc after SIGTERM"
    fi
}

# lab_ike_sites_stop: both daemons stopped (lab_ike_site_stop) and their
# TUNs gone.
lab_ike_sites_stop() {
    local site
    for site in a b; do
        lab_ike_site_stop "$site"
        [[ -z ${LAB_IKE_IF[$site]:-} ]] ||
            lab_wait 5 "${LAB_IKE_IF[$site]} in site-$site to go away" _lab_no_link "$(lab_site_ns "$site")" "${LAB_IKE_IF[$site]}"
    done
}

# lab_expect_ike_fragments LABEL a|b: the site sent and reassembled IKE
# fragments (RFC 7383), refused none, and negotiated fragmentation with its
# first peer; dies otherwise. Logs the counters under LABEL.
lab_expect_ike_fragments() {
    local label=$1 site=$2 got sent put_together refused negotiated
    got=$(lab_json "$site" '" ".join(str(d["counters"]["ike"][k]) for k in ("messages-fragmented", "messages-reassembled", "fragments-refused")) + " %s" % peer()["fragmentation"]')
    lab_info "($label) site-$site: $got (messages fragmented, reassembled, fragments refused, negotiated)"
    read -r sent put_together refused negotiated <<<"$got"
    if ! ((sent >= 1 && put_together >= 1 && refused == 0)) || [[ $negotiated != True ]]; then
        lab_die "($label) site-$site did not send and reassemble IKE fragments cleanly: $got"
    fi
}

# lab_tunnel_up a|b: true when one of the site's IKE SAs ("peers" entries)
# is "established" and its first tunnel "up", with at least one SA each way.
lab_tunnel_up() {
    [[ $(lab_json "$1" \
        'bool(any(p.get("state") == "established" for p in peers()) and tunnel() and tunnel().get("state") == "up" and sas("in") and sas("out"))' \
        2>/dev/null) == True ]]
}

# lab_tunnel_state a|b: "<peer states>/<tunnel state>" (one state per IKE SA,
# comma-separated), "none" for a missing one, "no-status" when the daemon
# does not answer.
lab_tunnel_state() {
    lab_json "$1" '"%s/%s" % (",".join(p.get("state", "?") for p in peers()) or "none", (tunnel() or {}).get("state", "none"))' 2>/dev/null ||
        echo no-status
}

# lab_wait_tunnel_up a|b [SECONDS]: waits (default 20 s) for lab_tunnel_up;
# on timeout dies with the site's last status and the logs' tails.
lab_wait_tunnel_up() {
    local site=$1 timeout=${2:-20} deadline
    deadline=$((SECONDS + timeout))
    pretty "$(lab_site_ns "$site")" "waiting up to ${timeout}s for the tunnel to be up (mesh-site status --json)"
    until lab_tunnel_up "$site"; do
        if ((SECONDS >= deadline)) || ! lab_alive "mesh-site-$site"; then
            echo "site-$site status --json:" >&2
            mesh "$site" status --json >&2 2>&1 || echo "  (status does not answer)" >&2
            lab_alive "mesh-site-$site" || lab_die "mesh-site (site-$site) exited while waiting for its tunnel"
            lab_die "site-$site: tunnel not up after ${timeout}s (peer/tunnel state: $(lab_tunnel_state "$site"))"
        fi
        sleep 0.2
    done
    lab_info "site-$site: tunnel up ($(lab_tunnel_state "$site"))"
}

# lab_wait_settled: both sites' tunnels up on exactly one IKE SA each. When
# both initiate at once their IKE_SA_INITs cross and two IKE SAs complete
# for a moment (the nonce rule keeps one); a test that counts every packet
# starts after that.
lab_wait_settled() {
    lab_wait_tunnel_up a
    lab_wait_tunnel_up b
    lab_wait 20 "one IKE SA at each site" _lab_one_ike_sa
}
_lab_one_ike_sa() { [[ $(lab_json a 'len(peers())') == 1 && $(lab_json b 'len(peers())') == 1 ]]; }

# lab_log_has NAME REGEX: the log $LAB_DIR/NAME.log matches REGEX
# (extended, case-insensitive).
lab_log_has() { grep -Eqi -- "$2" "$LAB_DIR/$1.log" 2>/dev/null; }

# lab_wait_log SECONDS REGEX NAME...: waits until one of the logs matches;
# prints the names of those that do. Returns 1 on timeout (does not die).
lab_wait_log() {
    local timeout=$1 re=$2 deadline name found; shift 2
    deadline=$((SECONDS + timeout))
    while :; do
        found=''
        for name in "$@"; do lab_log_has "$name" "$re" && found+="${found:+ }$name"; done
        [[ -n $found ]] && { echo "$found"; return 0; }
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------
# strongSwan as an IKEv2 peer of mesh-site (interop tests), one charon per
# site namespace with kernel-libipsec (docs/lab.md). Its files live in
# $LAB_DIR/swan-<site>/; its log, with ike and cfg at level 2, in
# $LAB_DIR/strongswan-<site>.log (tailed by lab_die).

# lab_require_strongswan: skips (exit 77) without charon, swanctl and the
# kernel-libipsec plugin the interop tests run strongSwan with.
lab_require_strongswan() {
    if [[ ! -x /usr/lib/ipsec/charon ]] || ! command -v swanctl >/dev/null; then
        lab_skip "needs strongSwan (strongswan-charon, strongswan-swanctl, libcharon-extra-plugins, libstrongswan-standard-plugins)"
    fi
    [[ -e /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so ]] ||
        lab_skip "needs strongSwan's kernel-libipsec plugin (libcharon-extra-plugins)"
}

# lab_charon_start a|b: strongswan.conf for PSK with ECP/MODP/X25519
# (openssl does the key exchanges, AES, GCM and the SHA-2 PRFs), then charon
# under a private /run; waits for its vici socket.
#   LAB_SWAN_PLUGINS  more plugins to load (certificates: "pem pkcs1 x509
#                     pubkey constraints")
#   LAB_SWAN_CHARON   more lines inside charon { } (e.g. "fragment_size = 576")
#   LAB_SWAN_LOG      the log level of ike and cfg (default 2; a benchmark
#                     sets 1, what an operator runs, as logging costs CPU)
lab_charon_start() {
    local site=$1 ns dir
    ns=$(lab_site_ns "$site") dir=$LAB_DIR/swan-$site
    mkdir -p "$dir/run" "$dir/swanctl/conf.d"
    (cd "$dir/swanctl" && mkdir -p x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12)
    # A charon of this run started before may have left its socket and pid
    # file: the socket would pass the wait below before the new one listens.
    rm -f "$dir/charon.vici" "$dir/run/charon.pid"
    cat >"$dir/strongswan.conf" <<EOF2
charon {
    # random: RNG; nonce: IKE nonces; openssl: (EC)DH, X25519, AES(-GCM), SHA-2,
    # HMAC; kdf: prf+; kernel-libipsec: userspace ESP on the TUN ipsec0;
    # kernel-netlink: its routes (table 220); socket-default: UDP 500/4500;
    # vici: swanctl.
    load = random nonce openssl kdf kernel-libipsec kernel-netlink socket-default vici${LAB_SWAN_PLUGINS:+ $LAB_SWAN_PLUGINS}
    install_routes = yes
    retransmit_tries = 3
${LAB_SWAN_CHARON:-}
    filelog {
        charon {
            path = $LAB_DIR/strongswan-$site.log
            time_format = %H:%M:%S
            flush_line = yes
            default = 1
            ike = ${LAB_SWAN_LOG:-2}
            cfg = ${LAB_SWAN_LOG:-2}
        }
    }
    syslog {
        daemon {
            default = -1
        }
    }
    plugins {
        vici {
            socket = unix://$dir/charon.vici
        }
    }
}
swanctl {
    load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey
    socket = unix://$dir/charon.vici
}
EOF2
    lab_gateway_bg "charon-$site" "$ns" env STRONGSWAN_CONF="$dir/strongswan.conf" \
        sh -c "mount --bind '$dir/run' /run && exec /usr/lib/ipsec/charon --debug-lib 0"
    lab_wait 10 "charon (site-$site) vici socket" test -S "$dir/charon.vici"
}

# lab_charon_stop a|b: charon gone and its ipsec0 with it.
lab_charon_stop() {
    lab_kill "charon-$1"
    lab_wait 5 "ipsec0 in site-$1 to go" _lab_no_link "$(lab_site_ns "$1")" ipsec0
}

# lab_swanctl a|b ARGS...: swanctl against that site's charon.
lab_swanctl() {
    local site=$1; shift
    n "$(lab_site_ns "$site")" env STRONGSWAN_CONF="$LAB_DIR/swan-$site/strongswan.conf" \
        SWANCTL_DIR="$LAB_DIR/swan-$site/swanctl" swanctl "$@"
}

# lab_swanctl_psk_conf a|b SECRET [IKE_PROPOSALS [ESP_PROPOSALS]]: the
# connection "lan" (child "lan") of that site toward the other, IKEv2, PSK
# with fqdn ids site-<me>.lab / site-<other>.lab (as lab_write_ike_configs),
# tunnel mode between the two LANs, no automatic start; loads it.
# LAB_SWAN_CHILD_REKEY / LAB_SWAN_IKE_REKEY: its rekey_time (default 1h / 4h);
# LAB_SWAN_CHILD_LIFE: the CHILD SA's life_time (default 2h).
# Mode config: LAB_SWAN_CONNECTION, more lines of the connection ("vips =
# 0.0.0.0", "pools = NAME"); LAB_SWAN_TAIL, more sections ("pools { ... }");
# LAB_SWAN_LOCAL_TS / LAB_SWAN_REMOTE_TS in place of the LANs ("dynamic":
# the virtual IP).
lab_swanctl_psk_conf() {
    local site=$1 secret=$2 other=b
    [[ $site == a ]] || other=a
    _lab_swanctl_lan "$site" "${3:-}" "${4:-}" "auth = psk" "auth = psk" "${LAB_SWAN_CONNECTION:-}" "${LAB_SWAN_TAIL:-}
secrets {
    ike-lan {
        id-me = fqdn:site-$site.lab
        id-peer = fqdn:site-$other.lab
        secret = \"$secret\"
    }
}"
}

# lab_swanctl_cert_conf a|b PKI_DIR: like lab_swanctl_psk_conf (same ids,
# traffic selectors and default proposals), authenticated by certificates:
# PKI_DIR/site-<me>.pem and .key (copied into the swanctl dir's x509/ and
# private/) and the CA PKI_DIR/ca.pem (x509ca/, the only one the peer's
# certificate may chain to). It sends its certificate even unasked, and
# RFC 7383 fragmentation is on (strongSwan's default, written out because
# the tests rely on it). Needs LAB_SWAN_PLUGINS="pem pkcs1 x509 pubkey
# constraints" at lab_charon_start.
lab_swanctl_cert_conf() {
    local site=$1 pki=$2 dir=$LAB_DIR/swan-$1/swanctl
    cp "$pki/site-$site.pem" "$dir/x509/"
    cp "$pki/site-$site.key" "$dir/private/"
    cp "$pki/ca.pem" "$dir/x509ca/"
    _lab_swanctl_lan "$site" "${3:-}" "${4:-}" "auth = pubkey
            certs = site-$site.pem" "auth = pubkey
            cacerts = ca.pem" "fragmentation = yes
        send_cert = always" ""
}

# _lab_swanctl_lan a|b IKE ESP LOCAL_AUTH REMOTE_AUTH CONNECTION_EXTRA TAIL:
# what the two above share: the connection "lan" toward the other site
# (fqdn ids, tunnel mode between the LANs, rekey times from the
# LAB_SWAN_* knobs), with their auth lines, extra connection lines and text
# after it (secrets); loads it.
_lab_swanctl_lan() {
    local site=$1 ike=${2:-aes256gcm16-prfsha256-ecp256} esp=${3:-aes128gcm16}
    local here there other lts rts
    lab_two_site_names
    if [[ $site == a ]]; then
        here=$UNDERLAY_A there=$UNDERLAY_B other=b lts=10.1.0.0/24 rts=10.2.0.0/24
    else
        here=$UNDERLAY_B there=$UNDERLAY_A other=a lts=10.2.0.0/24 rts=10.1.0.0/24
    fi
    cat >"$LAB_DIR/swan-$site/swanctl/swanctl.conf" <<EOF2
connections {
    lan {
        version = 2
        local_addrs = $here
        remote_addrs = $there
        proposals = $ike
        rekey_time = ${LAB_SWAN_IKE_REKEY:-4h}
        # Its default, 10% of rekey_time, is 0 s for a rekey_time of seconds:
        # charon would then delete the IKE SA while rekeying it.
        over_time = 1h
        $6
        local {
            $4
            id = fqdn:site-$site.lab
        }
        remote {
            $5
            id = fqdn:site-$other.lab
        }
        children {
            lan {
                local_ts = ${LAB_SWAN_LOCAL_TS:-$lts}
                remote_ts = ${LAB_SWAN_REMOTE_TS:-$rts}
                esp_proposals = $esp
                mode = tunnel
                start_action = none
                rekey_time = ${LAB_SWAN_CHILD_REKEY:-1h}
                life_time = ${LAB_SWAN_CHILD_LIFE:-2h}
                rand_time = 0
            }
        }
    }
}$7
EOF2
    lab_swanctl "$site" --load-all --noprompt >>"$LAB_DIR/swanctl-$site.out" 2>&1 ||
        lab_die "swanctl --load-all (site-$site) failed: $(tail -n 5 "$LAB_DIR/swanctl-$site.out")"
}

# lab_swan_sas a|b: `swanctl --list-sas` of that site (raw text).
lab_swan_sas() {
    ns_exec "$(lab_site_ns "$1")" env STRONGSWAN_CONF="$LAB_DIR/swan-$1/strongswan.conf" \
        SWANCTL_DIR="$LAB_DIR/swan-$1/swanctl" swanctl --list-sas 2>&1
}

# lab_swan_established a|b: the IKE SA ESTABLISHED and the CHILD SA INSTALLED.
lab_swan_established() {
    local sas
    sas=$(lab_swan_sas "$1") || return 1
    grep -q 'ESTABLISHED' <<<"$sas" && grep -q 'INSTALLED' <<<"$sas"
}

# ---------------------------------------------------------------------------
# Certificates for IKEv2 digital-signature authentication, made at test time
# with strongSwan's pki (package strongswan-pki). pki's plugin-loading chatter
# goes to $LAB_DIR/pki.log.

# _lab_pki ARGS... > OUT: pki with its stderr in pki.log; dies on failure.
_lab_pki() {
    pretty "" "pki $*"
    pki "$@" 2>>"$LAB_DIR/pki.log" || lab_die "pki $* failed (see pki.log)"
}

# lab_pki_ca DIR: an ECDSA P-256 CA, DIR/ca.key and DIR/ca.pem, subject
# "C=CH, O=mesh-site lab, CN=lab CA", valid 30 days.
lab_pki_ca() {
    local dir=$1
    mkdir -p "$dir"
    _lab_pki --gen --type ecdsa --size 256 --outform pem >"$dir/ca.key"
    _lab_pki --self --ca --lifetime 30 --in "$dir/ca.key" --type ecdsa \
        --dn "C=CH, O=mesh-site lab, CN=lab CA" --outform pem >"$dir/ca.pem"
}

# lab_pki_issue DIR NAME ecdsa|rsa SIZE SAN [DN]: a key DIR/NAME.key (pki's
# PEM: SEC1 for ecdsa, PKCS#1 for rsa) and a certificate DIR/NAME.pem signed
# by DIR's CA, with subjectAltName SAN (a DNS name) and subject DN (default
# "C=CH, O=mesh-site lab, CN=SAN"), valid 30 days.
lab_pki_issue() {
    local dir=$1 name=$2 type=$3 size=$4 san=$5 dn=${6:-"C=CH, O=mesh-site lab, CN=$5"}
    _lab_pki --gen --type "$type" --size "$size" --outform pem >"$dir/$name.key"
    _lab_pki --pub --in "$dir/$name.key" --type "$type" --outform pem >"$dir/$name.pub"
    _lab_pki --issue --cacert "$dir/ca.pem" --cakey "$dir/ca.key" --in "$dir/$name.pub" \
        --type pub --dn "$dn" --san "$san" --lifetime 30 --outform pem >"$dir/$name.pem"
}

# lab_pki_crl DIR OUT CERT...: a CRL DIR/OUT signed by DIR's CA revoking
# the certificates DIR/CERT (reason key-compromise), next update in 15 days.
lab_pki_crl() {
    local dir=$1 out=$2 cert; shift 2
    local args=()
    for cert in "$@"; do args+=(--reason key-compromise --cert "$dir/$cert"); done
    _lab_pki --signcrl --cacert "$dir/ca.pem" --cakey "$dir/ca.key" "${args[@]}" --outform pem >"$dir/$out"
}

# lab_ike_use_certificates a|b SETTING=VALUE...: turns the site's config from
# lab_write_ike_configs into digital-signature authentication: the secret
# goes, and these come in (paths as written, so relative ones are taken from
# $LAB_DIR, the config's folder):
#   certificate=, private-key=, ca=   (required)
#   crl=                              (optional)
#   my-id=ID, remote-id=ID            replace those lines; an empty value
#                                     removes the line (the daemon's default:
#                                     the certificate's subject DN, "auto")
lab_ike_use_certificates() {
    local site=$1 file arg key; shift
    file=$LAB_DIR/site-$site.toml
    [[ -f $file ]] || lab_die "lab_ike_use_certificates: no $file (lab_write_ike_configs first)"
    local -A c=()
    for arg in "$@"; do
        [[ $arg == *=* ]] || lab_die "lab_ike_use_certificates: '$arg' is not SETTING=VALUE"
        key=${arg%%=*}
        case $key in
            certificate | private-key | ca | crl | my-id | remote-id) c[$key]=${arg#*=} ;;
            *) lab_die "lab_ike_use_certificates: unknown setting '$key'" ;;
        esac
    done
    for key in certificate private-key ca; do
        [[ -n ${c[$key]:-} ]] || lab_die "lab_ike_use_certificates: $key= is required"
    done
    local out='' line
    while IFS= read -r line; do
        case $line in
            '# mesh-site lab:'*) line=${line/IKEv2 PSK/IKEv2 certificates} ;;
            'auth-method = '*)
                line='auth-method = "digital-signature"'
                for key in certificate private-key ca crl; do
                    [[ -z ${c[$key]:-} ]] || line+=$'\n'"$key = \"${c[$key]}\""
                done
                ;;
            'secret = '* | 'secret-file = '*) continue ;;
            'my-id = '* | 'remote-id = '*)
                key=${line%% =*}
                if [[ -v c[$key] ]]; then
                    [[ -n ${c[$key]} ]] || continue
                    line="$key = \"${c[$key]}\""
                fi
                ;;
        esac
        out+=$line$'\n'
    done <"$file"
    printf '%s' "$out" >"$file"
    pretty "" "site-$site.toml: digital-signature ($*)"
}

# lab_stays_up SITE: up now and still up over the next second. A responder
# installs its CHILD SA when it sends its AUTH, before the initiator can
# refuse it (RFC 7296 section 2.21.2), so a refused tunnel may be up for one
# round trip; only one that stays up is half-open.
lab_stays_up() {
    local i
    for i in 1 2 3 4; do
        lab_tunnel_up "$1" || return 1
        sleep 0.3
    done
}

# lab_not_up SECONDS: no tunnel stays up within SECONDS.
lab_not_up() {
    local deadline=$((SECONDS + $1)) site
    while ((SECONDS < deadline)); do
        for site in a b; do
            lab_stays_up $site || continue
            local other=b
            [[ $site == a ]] || other=a
            lab_tunnel_up $other ||
                lab_die "site-$site's tunnel came up ($(lab_tunnel_state $site)) but must not, while site-$other, which refused the authentication, has none ($(lab_tunnel_state $other)): a half-open IKE SA (did site-$other, as initiator, not tell site-$site with AUTHENTICATION_FAILED or a Delete?)"
            lab_die "site-$site's tunnel came up ($(lab_tunnel_state $site)) but must not"
        done
        sleep 0.5
    done
    lab_info "no tunnel after $1 s (site-a $(lab_tunnel_state a), site-b $(lab_tunnel_state b))"
}

# lab_ike_sas_mirror: both sites have SAs each way, set up by IKE (not the
# static 0x1001/0x2001 of lab_write_site_configs, not 0), and each one's
# outbound SPIs are the other's inbound ones. It compares them only once the
# sites have settled (lab_wait_settled: after a crossing start the losing IKE
# SA and its CHILD SAs are still going for a moment), then waits up to 10 s
# for the SPIs to mirror each other.
lab_ike_sas_mirror() {
    lab_wait_settled
    local deadline=$((SECONDS + 10))
    until _lab_sas_mirror; do
        ((SECONDS < deadline)) ||
            lab_die "the SAs' SPIs are not what IKE should have set up (site-a: $(_lab_spis a); site-b: $(_lab_spis b))"
        sleep 0.2
    done
    lab_info "SPIs (out / in): site-a $(_lab_spis a); site-b $(_lab_spis b)"
}
_lab_spis() { lab_json "$1" '" ".join([s["spi"] for s in sas("out")] + ["/"] + [s["spi"] for s in sas("in")])'; }
_lab_sas_mirror() {
    local a b
    a=$(_lab_spis a) && b=$(_lab_spis b) || return 1
    "$LAB_PYTHON" - "$a" "$b" <<'PY'
import sys
def parse(text):
    out, _, inn = text.partition("/")
    return [int(x, 16) for x in out.split()], [int(x, 16) for x in inn.split()]
(a_out, a_in), (b_out, b_in) = parse(sys.argv[1]), parse(sys.argv[2])
ok = a_out and a_in and b_out and b_in
ok = ok and set(a_out) <= set(b_in) and set(b_out) <= set(a_in)
ok = ok and not {0, 0x1001, 0x2001} & set(a_out + a_in + b_out + b_in)
sys.exit(0 if ok else 1)
PY
}

# shellcheck shell=bash source-path=SCRIPTDIR
# netns-lab/topology.sh: lab topologies of N sites built from a short
# description, one mesh-site (IKEv2 PSK) and, if routed dynamically, one FRR
# per site. Source lib.sh first; this sources frr.sh.
#
# Description: words KEY=VALUE, or a preset name.
#   sites=a,b,c            site names (at most 9 characters: interface names
#                          are gre-<name>-2 and u-<name>-2, 15 at most)
#   links=a-b,a-c:2,b-c:nat
#                          underlay links; ":N" gives N independent paths
#                          (N tunnels, N IKE SAs); ":nat" puts the second
#                          site behind a NAT router namespace on that link
#                          (it initiates, the first one is passive for it)
#   hub=a                  a passive hub: it never initiates (spokes do)
#   hub=h1,h2              several hubs: each passive towards the spokes; on
#                          a link between two hubs the first one initiates
#   routing=ospf|bgp|none  ospf: OSPF point-to-point over every tunnel,
#                          costs 10 x path (path 1 preferred); bgp: iBGP
#                          with the hubs (or the first site) as route
#                          reflectors; none: the tunnels' own static routes
#   spokes=template        (routing=bgp; links hub-spoke, hub first) a hub
#                          serves all its spokes with one template peer and
#                          a mode gre template tunnel (below), not a [peer]
#                          and a [tunnel] per spoke
# Presets:
#   pair    sites=a,b links=a-b routing=ospf
#   pair2   sites=a,b links=a-b:2 routing=ospf          (redundant paths)
#   mesh3   sites=a,b,c links=a-b,a-c,b-c routing=ospf  (full mesh)
#   hub3    sites=hub,s1,s2,s3 links=hub-s1,hub-s2,hub-s3 hub=hub routing=ospf
#   dualhub sites=h1,h2,b1,b2,b3 links=h1-h2,h1-b1,h1-b2,h1-b3,h2-b1,h2-b2,h2-b3
#           hub=h1,h2 routing=bgp spokes=template   (every branch on both hubs, below)
# Later words override a preset's: "hub3 routing=bgp".
#
# Addressing (site number i = position in sites, from 1; link number L in
# the order of links; path p):
#   LAN          10.i.0.0/24: the site 10.i.0.1 (lan0), its LAN host 10.i.0.2
#   router id    10.255.0.i
#   underlay     198.18.(10L+p).0/24: first site .1 (u-<other>[-p]), second
#                .2; behind a NAT router the second site is 10.200.(10L+p).2
#                and the router's public side 198.18.(10L+p).2
#   tunnel       172.16.(tunnel number).1/30 first site (gre-<other>[-p]), .2
#                second; mesh-site names the peer and tunnel <other>[-p]
#   template     (spokes=template) hub i's template peer and tunnel "branches":
#                spokes fqdn:<spoke>[-p].branch.lab, a PSK each in
#                [peer.branches.secrets]; instances br<N>, a /31 each from
#                address-pool 172.(16+i).128.0/17, the spoke's end handed to
#                its gre-<hub> by mode config (mode-config = "request"); the
#                lab learns both ends from the hub's status once up
#
#   e.g. pair2:
#     lan-a 10.1.0.2 -- a ==u-b   198.18.11.1 ---- 198.18.11.2 u-a  == b -- lan-b 10.2.0.2
#                          gre-b   172.16.1.1  ==== 172.16.1.2  gre-a
#                          u-b-2  198.18.12.1 ---- 198.18.12.2 u-a-2
#                          gre-b-2 172.16.2.1  ==== 172.16.2.2  gre-a-2
#
# Two hubs (dualhub): both are iBGP route reflectors with next-hop-self
# (a branch cannot reach another branch's tunnel address) and peer with each
# other over their own tunnel; with spokes=template a hub has no BGP line per
# branch either: `bgp listen range` on its pool with a peer-group of route
# reflector clients; a branch peers with both and installs the
# other LANs over both tunnels (maximum-paths ibgp = number of hubs). When a
# hub dies, the branch's DPD takes its tunnel administratively down, which
# removes the tunnel's connected route at once: the kernel drops that
# nexthop and bgpd's nexthop tracking drops the paths through it, long
# before BGP's hold timer (3 s, FRR's minimum) expires. Measured with
# failover.sh --topology dualhub --kill h1 --dpd 100ms:3 (kill -9 to h1's
# mesh-site and FRR under the probe b1 <-> b2): gap 0.41-0.46 s over 9
# kills, 40-45 packets lost, no false "peer dead"; both hubs used again
# 5-7 s after the restart (docs/lab.md).
#
# Knobs (set before topo_write_configs): TOPO_DPD="1s:3" (dpd-interval and
# dpd-maximum-failures), TOPO_LINK_DOWN=admin|carrier (written only when
# set), TOPO_ZEBRA=1 (mesh-site talks to zebra), TOPO_OSPF_HELLO/DEAD
# (default 1/3 s), TOPO_STATIC=1 (routes = [far LAN] on every tunnel, even
# with FRR), TOPO_BFD="50ms:3" (FRR's bfdd per site, a session over every
# tunnel with that transmit and receive interval and detect multiplier,
# `ip ospf bfd` or `neighbor ... bfd`; empty: no BFD).
#
# Entry points: topo_up DESCRIPTION (everything, waits until routed),
# topo_find a-b[:p] (a tunnel's number), topo_cut/topo_restore T,
# topo_tunnel_up/down T, topo_adjacent T, topo_route_dev SITE OTHER,
# topo_show_routing, topo_kill/topo_restart SITE (kill -9 its mesh-site and
# FRR, start them again), topo_learn_templates (spokes=template: the
# instances' interfaces and /31s, the same after a hub's restart), tmesh
# SITE CMD (the mesh-site CLI), vty NS CMD.

# shellcheck source=frr.sh
source "$(dirname "${BASH_SOURCE[0]}")/frr.sh"

TOPO_DPD=${TOPO_DPD:-1s:3}
TOPO_LINK_DOWN=${TOPO_LINK_DOWN:-}
TOPO_ZEBRA=${TOPO_ZEBRA:-0}
TOPO_OSPF_HELLO=${TOPO_OSPF_HELLO:-1}
TOPO_OSPF_DEAD=${TOPO_OSPF_DEAD:-3}
TOPO_STATIC=${TOPO_STATIC:-0}
TOPO_BFD=${TOPO_BFD:-}

declare -ga TOPO_SITES=() TOPO_TUNNELS=()
declare -gA TOPO_IDX=() TOPO_NS=() TOPO_LAN_NS=() TOPO_IS_HUB=()
# Per tunnel number: its two sites, path, link number, NAT, underlay
# interfaces and addresses, tunnel interfaces and the names each side uses.
declare -gA T_A=() T_B=() T_PATH=() T_LINK=() T_NAT=() T_UA=() T_UB=() T_UB_PUB=()
declare -gA T_IFUA=() T_IFUB=() T_IFA=() T_IFB=() T_NAMEA=() T_NAMEB=() T_NATNS=()
# spokes=template: per tunnel of a hub's template, the spoke's identity and
# both tunnel addresses once learned (T_ADDR[Ta], T_ADDR[Tb]); a key per identity.
declare -gA T_BRANCH=() T_ADDR=() TOPO_KEYS=()
TOPO_HUB='' TOPO_ROUTING=ospf TOPO_SECRET='' TOPO_TEMPLATE=0

# ---------------------------------------------------------------------------
# Description

topo_preset() {
    case $1 in
        pair) echo "sites=a,b links=a-b routing=ospf" ;;
        pair2) echo "sites=a,b links=a-b:2 routing=ospf" ;;
        mesh3) echo "sites=a,b,c links=a-b,a-c,b-c routing=ospf" ;;
        hub3) echo "sites=hub,s1,s2,s3 links=hub-s1,hub-s2,hub-s3 hub=hub routing=ospf" ;;
        dualhub) echo "sites=h1,h2,b1,b2,b3 links=h1-h2,h1-b1,h1-b2,h1-b3,h2-b1,h2-b2,h2-b3 hub=h1,h2 routing=bgp spokes=template" ;;
        *) return 1 ;;
    esac
}

# topo_parse DESCRIPTION...: fills TOPO_SITES, TOPO_TUNNELS and the T_*
# tables (no namespace made yet).
topo_parse() {
    local words=() w sites='' links='' given
    read -ra given <<<"$*"
    for w in "${given[@]}"; do
        if [[ $w != *=* ]]; then
            # shellcheck disable=SC2207
            words+=($(topo_preset "$w")) || lab_die "unknown topology preset '$w' (pair, pair2, mesh3, hub3, dualhub)"
        else
            words+=("$w")
        fi
    done
    for w in "${words[@]}"; do
        case $w in
            sites=*) sites=${w#*=} ;;
            links=*) links=${w#*=} ;;
            hub=*) TOPO_HUB=${w#*=} ;;
            routing=*) TOPO_ROUTING=${w#*=} ;;
            spokes=template) TOPO_TEMPLATE=1 ;;
            spokes=peers) TOPO_TEMPLATE=0 ;;
            *) lab_die "topology: unknown word '$w'" ;;
        esac
    done
    [[ $TOPO_ROUTING =~ ^(ospf|bgp|none)$ ]] || lab_die "topology: routing must be ospf, bgp or none"
    if [[ -n $TOPO_BFD ]]; then
        [[ $TOPO_BFD =~ ^[0-9]+(ms)?:[0-9]+$ ]] || lab_die "BFD: INTERVAL:MULTIPLIER in milliseconds, like 50ms:3 (got '$TOPO_BFD')"
        [[ $TOPO_ROUTING != none ]] || lab_die "BFD needs routing=ospf or bgp: it tells the routing protocol, nothing else"
    fi
    local IFS=, s i=0
    for s in $sites; do
        [[ $s =~ ^[a-z][a-z0-9]{0,8}$ ]] || lab_die "topology: bad site name '$s'"
        TOPO_SITES+=("$s")
        TOPO_IDX[$s]=$((++i))
        TOPO_NS[$s]=msl-$s-$$ TOPO_LAN_NS[$s]=msl-lan-$s-$$
    done
    ((i >= 2)) || lab_die "topology: at least two sites"
    for s in $TOPO_HUB; do
        [[ -n ${TOPO_IDX[$s]:-} ]] || lab_die "topology: hub '$s' is not a site"
        TOPO_IS_HUB[$s]=1
    done
    local link l=0
    for link in $links; do
        _topo_link "$((++l))" "$link"
    done
    ((${#TOPO_TUNNELS[@]})) || lab_die "topology: no links"
    ((TOPO_TEMPLATE)) || return 0
    [[ $TOPO_ROUTING == bgp ]] || lab_die "topology: spokes=template needs routing=bgp (bgp listen range on the pool)"
    ((!TOPO_ZEBRA)) || lab_die "topology: spokes=template needs TOPO_ZEBRA=0 (FRR starts once the pools are handed out)"
    local t
    for t in "${TOPO_TUNNELS[@]}"; do
        topo_is_hub "${T_A[$t]}" && topo_is_hub "${T_B[$t]}" && continue
        topo_is_hub "${T_A[$t]}" || lab_die "topology: spokes=template: write the link ${T_A[$t]}-${T_B[$t]} hub first"
        ((!T_NAT[$t])) || lab_die "topology: spokes=template: no NAT between a hub and a spoke"
        T_BRANCH[$t]=fqdn:${T_NAMEA[$t]}.branch.lab
        T_NAMEA[$t]=branches[${T_BRANCH[$t]}] T_IFA[$t]='br?'
    done
}

# topo_is_template T: tunnel T is an instance of its hub's template (side a).
topo_is_template() { [[ -n ${T_BRANCH[$1]:-} ]]; }
# topo_pool HUB: the address-pool of the hub's template tunnel.
topo_pool() { echo "172.$((16 + TOPO_IDX[$1])).128.0/17"; }

# _topo_link L A-B[:N][:nat]: the tunnels of one underlay link.
_topo_link() {
    local l=$1 spec=$2 pair paths=1 nat=0 opt a b p t sfx
    pair=${spec%%:*}
    a=${pair%-*} b=${pair#*-}
    local IFS=:
    for opt in ${spec#"$pair"}; do
        case $opt in
            '') ;;
            nat) nat=1 ;;
            [1-9]) paths=$opt ;;
            *) lab_die "topology: bad link option '$opt' in '$spec'" ;;
        esac
    done
    [[ -n ${TOPO_IDX[$a]:-} && -n ${TOPO_IDX[$b]:-} && $a != "$b" ]] || lab_die "topology: bad link '$spec'"
    for ((p = 1; p <= paths; p++)); do
        t=$((${#TOPO_TUNNELS[@]} + 1))
        TOPO_TUNNELS+=("$t")
        sfx=''
        ((p == 1)) || sfx=-$p
        T_A[$t]=$a T_B[$t]=$b T_PATH[$t]=$p T_LINK[$t]=$l T_NAT[$t]=$nat
        T_UA[$t]=198.18.$((10 * l + p)).1 T_UB_PUB[$t]=198.18.$((10 * l + p)).2
        T_UB[$t]=${T_UB_PUB[$t]}
        ((nat)) && T_UB[$t]=10.200.$((10 * l + p)).2 T_NATNS[$t]=msl-nat$l-$p-$$
        T_IFUA[$t]=u-$b$sfx T_IFUB[$t]=u-$a$sfx T_IFA[$t]=gre-$b$sfx T_IFB[$t]=gre-$a$sfx
        T_NAMEA[$t]=$b$sfx T_NAMEB[$t]=$a$sfx
    done
}

# topo_find A-B[:P]: the tunnel number of that link's path P (default 1).
topo_find() {
    local spec=$1 pair p=1 a b t
    pair=${spec%%:*}
    [[ $spec == *:* ]] && p=${spec#*:}
    a=${pair%-*} b=${pair#*-}
    for t in "${TOPO_TUNNELS[@]}"; do
        if [[ ${T_PATH[$t]} == "$p" ]] &&
            { [[ ${T_A[$t]} == "$a" && ${T_B[$t]} == "$b" ]] || [[ ${T_A[$t]} == "$b" && ${T_B[$t]} == "$a" ]]; }; then
            echo "$t"
            return 0
        fi
    done
    lab_die "no tunnel for '$spec'"
}

topo_is_hub() { [[ -n ${TOPO_IS_HUB[$1]:-} ]]; }
# topo_is_rr SITE: a BGP route reflector (a hub, or the first site if none).
topo_is_rr() { if [[ -n $TOPO_HUB ]]; then topo_is_hub "$1"; else [[ $1 == "${TOPO_SITES[0]}" ]]; fi; }

topo_lan() { echo "10.${TOPO_IDX[$1]}.0.0/24"; }
topo_host() { echo "10.${TOPO_IDX[$1]}.0.2"; }
# topo_tun_addr T a|b: the tunnel's address of side a (.1) or b (.2); of a
# template's instance, what the hub handed out (topo_learn_templates).
topo_tun_addr() {
    if topo_is_template "$1"; then
        [[ -n ${T_ADDR[$1$2]:-} ]] || lab_die "topo_tun_addr $1 $2: the instance's addresses are not learned yet"
        echo "${T_ADDR[$1$2]}"
    elif [[ $2 == a ]]; then echo "172.16.$1.1"; else echo "172.16.$1.2"; fi
}

# topo_describe: one line per site and per tunnel.
topo_describe() {
    local s t via
    for s in "${TOPO_SITES[@]}"; do
        echo "  site $s: namespace ${TOPO_NS[$s]}, LAN $(topo_lan "$s") (host $(topo_host "$s") in ${TOPO_LAN_NS[$s]})$(topo_is_hub "$s" && echo ', passive hub')"
    done
    for t in "${TOPO_TUNNELS[@]}"; do
        via=''
        ((T_NAT[$t])) && via=" (${T_B[$t]} behind NAT ${T_NATNS[$t]}: ${T_UB[$t]} -> ${T_UB_PUB[$t]})"
        if topo_is_template "$t"; then
            echo "  tunnel $t: ${T_A[$t]} template instance for ${T_BRANCH[$t]}, a /31 of $(topo_pool "${T_A[$t]}") <-> mode config ${T_IFB[$t]} ${T_B[$t]}, underlay ${T_UA[$t]} <-> ${T_UB_PUB[$t]}"
            continue
        fi
        echo "  tunnel $t: ${T_A[$t]} ${T_IFA[$t]} $(topo_tun_addr "$t" a) <-> $(topo_tun_addr "$t" b) ${T_IFB[$t]} ${T_B[$t]}, underlay ${T_UA[$t]} <-> ${T_UB_PUB[$t]}$via"
    done
}

# ---------------------------------------------------------------------------
# Namespaces and links

# topo_build: every namespace, LAN and underlay link of the parsed topology.
topo_build() {
    local s t
    for s in "${TOPO_SITES[@]}"; do
        _topo_site "$s"
    done
    for t in "${TOPO_TUNNELS[@]}"; do
        if ((T_NAT[$t])); then _topo_nat_path "$t"; else _topo_path "$t"; fi
    done
}

_topo_ns() { # NS: a namespace without IPv6 (no RS or DAD in the captures)
    lab_ns_add "$1"
    ns_exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

_topo_site() {
    local s=$1 i=${TOPO_IDX[$1]} ns=${TOPO_NS[$1]} lan=${TOPO_LAN_NS[$1]}
    _topo_ns "$ns"
    _topo_ns "$lan"
    lab_veth "$ns" lan0 "$lan" lan0
    n "$ns" ip addr add "10.$i.0.1/24" dev lan0
    n "$lan" ip addr add "10.$i.0.2/24" dev lan0
    n "$ns" ip addr add "10.255.0.$i/32" dev lo
    ns_exec "$ns" ip link set lan0 up
    ns_exec "$lan" ip link set lan0 up
    n "$lan" ip route add default via "10.$i.0.1"
    n "$ns" sysctl -qw net.ipv4.ip_forward=1
}

_topo_path() { # T: a veth straight from site A to site B
    local t=$1 na=${TOPO_NS[${T_A[$1]}]} nb=${TOPO_NS[${T_B[$1]}]}
    lab_veth "$na" "${T_IFUA[$t]}" "$nb" "${T_IFUB[$t]}"
    n "$na" ip addr add "${T_UA[$t]}/24" dev "${T_IFUA[$t]}"
    n "$nb" ip addr add "${T_UB[$t]}/24" dev "${T_IFUB[$t]}"
    ns_exec "$na" ip link set "${T_IFUA[$t]}" up
    ns_exec "$nb" ip link set "${T_IFUB[$t]}" up
}

# _topo_nat_path T: site B behind a router that masquerades it:
#   A u-B 198.18.x.1 --- pub 198.18.x.2 [NAT] priv 10.200.x.1 --- u-A 10.200.x.2 B
_topo_nat_path() {
    local t=$1 na=${TOPO_NS[${T_A[$1]}]} nb=${TOPO_NS[${T_B[$1]}]} nat=${T_NATNS[$1]} x
    x=$((10 * T_LINK[$t] + T_PATH[$t]))
    _topo_ns "$nat"
    lab_veth "$na" "${T_IFUA[$t]}" "$nat" pub
    lab_veth "$nat" priv "$nb" "${T_IFUB[$t]}"
    n "$na" ip addr add "${T_UA[$t]}/24" dev "${T_IFUA[$t]}"
    n "$nat" ip addr add "${T_UB_PUB[$t]}/24" dev pub
    n "$nat" ip addr add "10.200.$x.1/24" dev priv
    n "$nb" ip addr add "${T_UB[$t]}/24" dev "${T_IFUB[$t]}"
    ns_exec "$na" ip link set "${T_IFUA[$t]}" up
    ns_exec "$nat" ip link set pub up
    ns_exec "$nat" ip link set priv up
    ns_exec "$nb" ip link set "${T_IFUB[$t]}" up
    n "$nat" sysctl -qw net.ipv4.ip_forward=1
    n "$nat" iptables -t nat -A POSTROUTING -o pub -j MASQUERADE
    n "$nb" ip route add "${T_UA[$t]}/32" via "10.200.$x.1" dev "${T_IFUB[$t]}"
}

# topo_cut T [drop|down]: cuts tunnel T's underlay path without telling
# either end (drop: both ends drop all it receives, as a dead ISP would), or
# by taking site A's end down (down: both ends lose the link at once).
topo_cut() {
    local t=$1 how=${2:-drop}
    if [[ $how == down ]]; then
        n "${TOPO_NS[${T_A[$t]}]}" ip link set "${T_IFUA[$t]}" down
        return
    fi
    n "${TOPO_NS[${T_A[$t]}]}" iptables -I INPUT -i "${T_IFUA[$t]}" -j DROP
    n "${TOPO_NS[${T_B[$t]}]}" iptables -I INPUT -i "${T_IFUB[$t]}" -j DROP
}

topo_restore() {
    local t=$1 how=${2:-drop}
    if [[ $how == down ]]; then
        n "${TOPO_NS[${T_A[$t]}]}" ip link set "${T_IFUA[$t]}" up
        return
    fi
    n "${TOPO_NS[${T_A[$t]}]}" iptables -D INPUT -i "${T_IFUA[$t]}" -j DROP
    n "${TOPO_NS[${T_B[$t]}]}" iptables -D INPUT -i "${T_IFUB[$t]}" -j DROP
}

# ---------------------------------------------------------------------------
# mesh-site configuration: $LAB_DIR/site-<name>.toml

# topo_write_configs: one config per site, one peer and one tunnel per path
# it is on, a lab-wide random pre-shared key, ids fqdn:<site>[-p].lab.
topo_write_configs() {
    local s t
    TOPO_SECRET=$(lab_hex 16)
    for t in "${TOPO_TUNNELS[@]}"; do
        topo_is_template "$t" && TOPO_KEYS[${T_BRANCH[$t]}]=$(lab_hex 16)
    done
    for s in "${TOPO_SITES[@]}"; do
        _topo_site_config "$s" >"$LAB_DIR/site-$s.toml"
    done
    pretty "" "wrote $LAB_DIR/site-{$(IFS=,; echo "${TOPO_SITES[*]}")}.toml (IKEv2 PSK, DPD $TOPO_DPD${TOPO_LINK_DOWN:+, link-down $TOPO_LINK_DOWN}${TOPO_ZEBRA:+, zebra $TOPO_ZEBRA})"
}

# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
_topo_site_config() {
    local s=$1 t
    local -A t_site=([name]=$s [control-socket]=$LAB_DIR/site-$s.sock)
    ((TOPO_ZEBRA)) && t_site+=([zebra-socket]=$(frr_zserv "${TOPO_NS[$s]}"))
    [[ -z $TOPO_LINK_DOWN ]] || t_site+=([link-down]=$TOPO_LINK_DOWN)
    local -A t_ike=(
        [dh-group]=ecp256 [ike-enc]=aes-256-gcm [ike-hash]=sha256 [esp]=aes-128-gcm [pfs]=none
        [dpd-interval]=${TOPO_DPD%%:*} [dpd-maximum-failures]=${TOPO_DPD##*:}
    )
    echo "# mesh-site lab: site $s of \"${TOPO_SITES[*]}\" (netns-lab/topology.sh)"
    lab_toml_table site t_site name control-socket zebra-socket link-down
    lab_toml_ike_defaults t_ike
    local branches=()
    for t in "${TOPO_TUNNELS[@]}"; do
        if [[ ${T_A[$t]} == "$s" ]] && topo_is_template "$t"; then
            branches+=("${T_BRANCH[$t]}")
        elif [[ ${T_A[$t]} == "$s" ]]; then
            _topo_tunnel_config "$t" a
        elif [[ ${T_B[$t]} == "$s" ]]; then
            _topo_tunnel_config "$t" b
        fi
    done
    ((${#branches[@]} == 0)) || _topo_template_config "$s" "${branches[@]}"
}

# _topo_template_config HUB IDENTITY...: the hub's one template peer and
# tunnel for all its spokes, a key per spoke.
# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
_topo_template_config() {
    local s=$1 id
    shift
    local -A t_peer=([address]=0.0.0.0/0 [passive]=true [auth-method]=pre-shared-key [my-id]=fqdn:$s.lab
        [remote-id]=fqdn:*.branch.lab)
    local -A t_tunnel=([peer]=branches [interface]=br [mode]=gre [address-pool]=$(topo_pool "$s"))
    lab_toml_table peer.branches t_peer address passive auth-method my-id remote-id
    printf '\n[peer.branches.secrets]\n'
    for id in "$@"; do
        echo "\"$id\" = \"${TOPO_KEYS[$id]}\""
    done
    lab_toml_table tunnel.branches t_tunnel peer interface mode address-pool
}

# _topo_tunnel_config T a|b: the [peer] and [tunnel] of one side of T.
# shellcheck disable=SC2034 # the t_* tables are read by lab_toml_table through their names
_topo_tunnel_config() {
    local t=$1 side=$2 me other name ifname local_addr remote_addr passive=false sfx=''
    ((T_PATH[$t] == 1)) || sfx=-${T_PATH[$t]}
    if [[ $side == a ]]; then
        me=${T_A[$t]} other=${T_B[$t]} name=${T_NAMEA[$t]} ifname=${T_IFA[$t]}
        local_addr=${T_UA[$t]} remote_addr=${T_UB_PUB[$t]}
        # Behind the NAT only B can open the way: A waits for it.
        ((T_NAT[$t])) && passive=true
    else
        me=${T_B[$t]} other=${T_A[$t]} name=${T_NAMEB[$t]} ifname=${T_IFB[$t]}
        local_addr=${T_UB[$t]} remote_addr=${T_UA[$t]}
    fi
    # A hub waits for its spokes; between two hubs the first one initiates.
    topo_is_hub "$me" && { ! topo_is_hub "$other" || [[ $side == b ]]; } && passive=true
    local -A t_peer=(
        [address]=$remote_addr [local-address]=$local_addr [passive]=$passive [auth-method]=pre-shared-key
        [secret]=$TOPO_SECRET [my-id]=fqdn:$me$sfx.lab [remote-id]=fqdn:$other$sfx.lab
    )
    local -A t_tunnel=([peer]=$name [interface]=$ifname [mode]=gre)
    if topo_is_template "$t"; then
        # A spoke of a template: its own identity and key, its address by mode config.
        t_peer+=([my-id]=${T_BRANCH[$t]} [remote-id]=fqdn:$other.lab [secret]=${TOPO_KEYS[${T_BRANCH[$t]}]}
            [mode-config]=request)
    else
        t_tunnel+=([address]=$(topo_tun_addr "$t" "$side")/30)
    fi
    if [[ $TOPO_ROUTING == none ]] || ((TOPO_STATIC)); then
        t_tunnel+=([routes]=$(topo_lan "$other"))
    fi
    lab_toml_table "peer.$name" t_peer address local-address passive auth-method secret my-id remote-id mode-config
    lab_toml_table "tunnel.$name" t_tunnel peer interface address mode routes
}

# ---------------------------------------------------------------------------
# FRR: OSPF or BGP per site

# topo_write_frr: zebra.conf and ospfd.conf or bgpd.conf for every site.
topo_write_frr() {
    local s
    [[ $TOPO_ROUTING != none ]] || return 0
    for s in "${TOPO_SITES[@]}"; do
        frr_prepare "${TOPO_NS[$s]}"
        _topo_zebra "$s" | frr_write "${TOPO_NS[$s]}" zebra
        [[ -z $TOPO_BFD ]] || _topo_bfdd "$s" | frr_write "${TOPO_NS[$s]}" bfdd
        if [[ $TOPO_ROUTING == ospf ]]; then
            _topo_ospfd "$s" | frr_write "${TOPO_NS[$s]}" ospfd
        else
            _topo_bgpd "$s" | frr_write "${TOPO_NS[$s]}" bgpd
        fi
    done
}

_topo_zebra() {
    echo "hostname $1"
    # LAB_FRR_DEBUG=1: what zebra hears from the kernel and says to its clients (docs/lab.md).
    [[ -z ${LAB_FRR_DEBUG:-} ]] || printf '%s\n' "debug zebra events" "debug zebra kernel" "debug zebra packet"
    # ECMP over several hubs: routes carry their nexthops themselves, as
    # kernel nexthop objects lose a nexthop for good when its tunnel goes
    # down (zebra 8.4 then keeps a route on the other hub alone after the
    # tunnel is back, while `show ip route` lists both).
    ((${#TOPO_IS_HUB[@]} < 2)) || echo "no zebra nexthop kernel enable"
}

# topo_frr_daemons: the FRR daemons of a site besides zebra, bfdd first
# (ospfd and bgpd register their sessions with it).
topo_frr_daemons() {
    [[ -z $TOPO_BFD ]] || echo bfdd
    if [[ $TOPO_ROUTING == bgp ]]; then echo bgpd; else echo ospfd; fi
}

# _topo_bfdd SITE: one BFD profile, "tunnels", that every OSPF interface or
# BGP neighbor on a tunnel names; bfdd creates the sessions they ask for
# (RFC 5881 single hop: the tunnel is one hop). `debug bfd peer` logs each
# session's state changes (not its packets): frr_bfd_state_downs counts them.
_topo_bfdd() {
    cat <<EOF
hostname $1
debug bfd peer
bfd
 profile tunnels
  transmit-interval $(topo_bfd_ms)
  receive-interval $(topo_bfd_ms)
  detect-multiplier ${TOPO_BFD##*:}
 exit
exit
EOF
}

# topo_bfd_ms: TOPO_BFD's interval in milliseconds ("50ms:3" or "50:3" -> 50).
topo_bfd_ms() {
    local iv=${TOPO_BFD%%:*}
    echo "${iv%ms}"
}

# topo_site_ifaces SITE: "T IFNAME SIDE" for each tunnel end at SITE.
topo_site_ifaces() {
    local s=$1 t
    for t in "${TOPO_TUNNELS[@]}"; do
        [[ ${T_A[$t]} == "$s" ]] && echo "$t ${T_IFA[$t]} a"
        [[ ${T_B[$t]} == "$s" ]] && echo "$t ${T_IFB[$t]} b"
    done
    return 0
}

# OSPF point-to-point over every tunnel interface, the LAN announced as a
# passive interface. The underlay is left out on purpose: were it in OSPF,
# LAN traffic would take it in clear. The throttle timers bring route
# installation down from ~10 s to ~1 s after Full (docs/lab.md); path p
# costs 10p so that path 1 carries the traffic while it is up.
_topo_ospfd() {
    local s=$1 t ifname side
    echo "hostname $s"
    echo "interface lan0"
    echo " ip ospf area 0"
    echo " ip ospf passive"
    while read -r t ifname side; do
        cat <<EOF
interface $ifname
 ip ospf area 0
 ip ospf network point-to-point
 ip ospf hello-interval $TOPO_OSPF_HELLO
 ip ospf dead-interval $TOPO_OSPF_DEAD
 ip ospf cost $((10 * ${T_PATH[$t]}))
 ip ospf mtu-ignore
EOF
        [[ -z $TOPO_BFD ]] || printf '%s\n' " ip ospf bfd" " ip ospf bfd profile tunnels"
    done < <(topo_site_ifaces "$s")
    cat <<EOF
router ospf
 ospf router-id 10.255.0.${TOPO_IDX[$s]}
 log-adjacency-changes
 timers throttle spf 0 50 1000
 timers throttle lsa all 0
 timers lsa min-arrival 0
EOF
}

# iBGP in AS 65000 over the tunnel addresses: the hubs (or the first site)
# reflect the spokes' LANs to each other with themselves as next hop, so a
# spoke needs no route to another spoke's tunnel address. Keepalive 1 s,
# hold 3 s, connect retry 1 s: a restored tunnel is used again quickly.
_topo_bgpd() {
    local s=$1 t ifname side peer other hubs=${#TOPO_IS_HUB[@]}
    [[ -z ${LAB_FRR_DEBUG:-} ]] || printf '%s\n' "debug bgp zebra"
    cat <<EOF
hostname $s
router bgp 65000
 bgp router-id 10.255.0.${TOPO_IDX[$s]}
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 1 3
EOF
    while read -r t ifname side peer other; do
        # A spoke peers with the reflectors only; in a full mesh everyone peers.
        [[ -n $TOPO_HUB ]] && ! topo_is_rr "$s" && ! topo_is_rr "$other" && continue
        echo " neighbor $peer remote-as 65000"
        echo " neighbor $peer timers connect 1"
        echo " neighbor $peer update-source $ifname"
        [[ -z $TOPO_BFD ]] || printf '%s\n' " neighbor $peer bfd" " neighbor $peer bfd profile tunnels"
    done < <(_topo_bgp_sessions "$s")
    # A template's spokes: whoever connects from its pool, none named.
    if _topo_has_template "$s"; then
        cat <<EOF
 neighbor BRANCHES peer-group
 neighbor BRANCHES remote-as 65000
 bgp listen range $(topo_pool "$s") peer-group BRANCHES
EOF
        [[ -z $TOPO_BFD ]] || printf '%s\n' " neighbor BRANCHES bfd" " neighbor BRANCHES bfd profile tunnels"
    fi
    echo " address-family ipv4 unicast"
    echo "  network $(topo_lan "$s")"
    if ((hubs > 1)) && ! topo_is_rr "$s"; then
        # A branch of several hubs forwards over all of them (ECMP): when
        # one dies, the kernel drops its nexthop as the tunnel goes down.
        echo "  maximum-paths ibgp $hubs"
    else
        # One best path, not ECMP over redundant tunnels: the lower neighbor
        # address (path 1) carries the traffic while it is up, as with OSPF's
        # costs, and failover is a change of route, not of a nexthop group.
        # A hub reaches its own branches directly, never through another hub.
        echo "  maximum-paths ibgp 1"
    fi
    if topo_is_rr "$s"; then
        while read -r t ifname side peer other; do
            topo_is_rr "$other" || echo "  neighbor $peer route-reflector-client"
            echo "  neighbor $peer next-hop-self force"
        done < <(_topo_bgp_sessions "$s")
        _topo_has_template "$s" && printf '%s\n' "  neighbor BRANCHES route-reflector-client" \
            "  neighbor BRANCHES next-hop-self force"
    fi
    echo " exit-address-family"
}

_topo_has_template() {
    local t
    for t in "${TOPO_TUNNELS[@]}"; do
        [[ ${T_A[$t]} == "$1" ]] && topo_is_template "$t" && return 0
    done
    return 1
}

# _topo_bgp_sessions SITE: "T IFNAME SIDE PEER_ADDRESS OTHER_SITE" for each
# tunnel end at SITE, but a hub's template instances (bgp listen range).
_topo_bgp_sessions() {
    local t ifname side
    while read -r t ifname side; do
        [[ $side == a ]] && topo_is_template "$t" && continue
        if [[ $side == a ]]; then
            echo "$t $ifname $side $(topo_tun_addr "$t" b) ${T_B[$t]}"
        else
            echo "$t $ifname $side $(topo_tun_addr "$t" a) ${T_A[$t]}"
        fi
    done < <(topo_site_ifaces "$1")
}

# topo_frr_start: FRR in every site.
topo_frr_start() {
    local s
    [[ $TOPO_ROUTING != none ]] || return 0
    for s in "${TOPO_SITES[@]}"; do
        # shellcheck disable=SC2046 # one word per daemon
        frr_start "${TOPO_NS[$s]}" $(topo_frr_daemons)
    done
}

# ---------------------------------------------------------------------------
# mesh-site per site

# tmesh SITE CMD ARGS...: the mesh-site CLI against that site's config.
tmesh() {
    local s=$1 cmd=$2; shift 2
    ns_exec "${TOPO_NS[$s]}" "$MESH_SITE" "$cmd" -c "$LAB_DIR/site-$s.toml" "$@"
}

topo_mesh_start() {
    local s
    for s in "${TOPO_SITES[@]}"; do
        _topo_mesh_start_site "$s"
    done
    for s in "${TOPO_SITES[@]}"; do
        lab_wait 10 "mesh-site ($s) to answer status" tmesh "$s" status --json
    done
}

_topo_mesh_start_site() {
    local s=$1
    n "${TOPO_NS[$s]}" "$MESH_SITE" check-config -c "$LAB_DIR/site-$s.toml" >&2 ||
        lab_die "check-config rejected site-$s.toml"
    lab_bg "mesh-site-$s" "${TOPO_NS[$s]}" "$MESH_SITE" run -c "$LAB_DIR/site-$s.toml"
}

# topo_kill SITE: the site dies without a word: kill -9 to its mesh-site and
# its FRR daemons (no IKE Delete, no BGP Notification). Its log is kept as
# mesh-site-SITE.log.N (N = 1, 2, ...) for topo_restart.
topo_kill() {
    local s=$1 pid=${LAB_PID[mesh-site-$1]:-} i=1
    [[ -n $pid ]] || lab_die "topo_kill $s: its mesh-site is not running"
    n "${TOPO_NS[$s]}" kill -KILL "$pid"
    unset "LAB_PID[mesh-site-$s]"
    # The braces also silence bash's "Killed" notice for the job.
    { wait "$pid"; } 2>/dev/null || true
    [[ $TOPO_ROUTING == none ]] || frr_kill "${TOPO_NS[$s]}"
    while [[ -e $LAB_DIR/mesh-site-$s.log.$i ]]; do i=$((i + 1)); done
    mv "$LAB_DIR/mesh-site-$s.log" "$LAB_DIR/mesh-site-$s.log.$i"
}

# topo_restart SITE: mesh-site and FRR of a killed site started again, in
# topo_up's order; returns once its mesh-site answers status.
topo_restart() {
    local s=$1 daemons
    daemons=$(topo_frr_daemons)
    # shellcheck disable=SC2086 # one word per daemon
    if [[ $TOPO_ROUTING != none ]] && ((TOPO_ZEBRA)); then frr_start "${TOPO_NS[$s]}" $daemons; fi
    _topo_mesh_start_site "$s"
    lab_wait 10 "mesh-site ($s) to answer status" tmesh "$s" status --json
    # shellcheck disable=SC2086 # one word per daemon
    if [[ $TOPO_ROUTING != none ]] && ! ((TOPO_ZEBRA)); then frr_start "${TOPO_NS[$s]}" $daemons; fi
}

# topo_tunnel_state SITE NAME: that tunnel's "state" in the site's status
# ("none" when absent, "no-status" when the daemon does not answer).
topo_tunnel_state() {
    local json
    json=$(tmesh "$1" status --json 2>/dev/null) || { echo no-status; return; }
    "$LAB_PYTHON" -c '
import json, sys
d = json.loads(sys.argv[1])
print(next((t.get("state", "?") for t in d.get("tunnels") or [] if t.get("name") == sys.argv[2]), "none"))' "$json" "$2"
}

# topo_tunnel_up T: both ends of tunnel T report it "up".
topo_tunnel_up() {
    local t=$1
    [[ $(topo_tunnel_state "${T_A[$t]}" "${T_NAMEA[$t]}") == up &&
        $(topo_tunnel_state "${T_B[$t]}" "${T_NAMEB[$t]}") == up ]]
}

# topo_tunnel_down T: both ends report tunnel T as something else than "up".
topo_tunnel_down() {
    local t=$1
    [[ $(topo_tunnel_state "${T_A[$t]}" "${T_NAMEA[$t]}") != up &&
        $(topo_tunnel_state "${T_B[$t]}" "${T_NAMEB[$t]}") != up ]]
}

# topo_adjacent T: the routing protocol runs over tunnel T (OSPF Full on
# both ends, or the BGP session established where one is configured).
topo_adjacent() {
    local t=$1
    case $TOPO_ROUTING in
        ospf) frr_ospf_full "${TOPO_NS[${T_A[$t]}]}" "${T_IFA[$t]}" && frr_ospf_full "${TOPO_NS[${T_B[$t]}]}" "${T_IFB[$t]}" ;;
        bgp) _topo_bgp_adjacent "$t" ;;
        *) return 0 ;;
    esac
}
_topo_bgp_adjacent() {
    local t=$1
    [[ -n $TOPO_HUB ]] && ! topo_is_rr "${T_A[$t]}" && ! topo_is_rr "${T_B[$t]}" && return 0
    # The hub lists a dynamic neighbor as "*ADDRESS": ask the spoke.
    if topo_is_template "$t"; then
        frr_bgp_established "${TOPO_NS[${T_B[$t]}]}" "$(topo_tun_addr "$t" a)"
    else
        frr_bgp_established "${TOPO_NS[${T_A[$t]}]}" "$(topo_tun_addr "$t" b)"
    fi
}

# topo_routes_complete: every site has a route to every other site's LAN.
topo_routes_complete() {
    local s o
    for s in "${TOPO_SITES[@]}"; do
        for o in "${TOPO_SITES[@]}"; do
            [[ $s == "$o" ]] && continue
            ip -n "${TOPO_NS[$s]}" -4 route show "$(topo_lan "$o")" | grep -q . || return 1
        done
    done
}

# topo_route_dev SITE OTHER: the interface(s) the site routes OTHER's LAN out of.
topo_route_dev() {
    ip -n "${TOPO_NS[$1]}" -4 route show "$(topo_lan "$2")" |
        grep -o 'dev [^ ]*' | awk '{ print $2 }' | sort -u | paste -sd,
}

# topo_wait_up [SECONDS]: every tunnel up, every adjacency formed, every
# LAN routed everywhere; dies with the states when SECONDS (default 40) pass.
topo_wait_up() {
    local timeout=${1:-40} t deadline
    deadline=$((SECONDS + timeout))
    for t in "${TOPO_TUNNELS[@]}"; do
        until topo_tunnel_up "$t" && topo_adjacent "$t"; do
            ((SECONDS < deadline)) || _topo_not_up "$t" "$timeout"
            sleep 0.2
        done
    done
    until topo_routes_complete; do
        ((SECONDS < deadline)) || lab_die "not every LAN is routed everywhere after ${timeout}s"
        sleep 0.2
    done
}

# _topo_not_up T SECONDS: dies saying what is missing on tunnel T: its
# state at both ends, whether a ping crosses it, the routing adjacency.
_topo_not_up() {
    local t=$1 na=${TOPO_NS[${T_A[$1]}]} across=no
    ns_exec "$na" ping -n -q -c 3 -i 0.2 -W 1 "$(topo_tun_addr "$t" b)" >/dev/null 2>&1 && across=yes
    echo "status --json of ${T_A[$t]}:" >&2
    tmesh "${T_A[$t]}" status --json >&2 2>&1 || true
    [[ $TOPO_ROUTING != ospf ]] || vty "$na" "show ip ospf neighbor" >&2
    lab_die "tunnel $t (${T_A[$t]} ${T_IFA[$t]} - ${T_B[$t]} ${T_IFB[$t]}) not up and adjacent after ${2}s: ${T_A[$t]} $(topo_tunnel_state "${T_A[$t]}" "${T_NAMEA[$t]}"), ${T_B[$t]} $(topo_tunnel_state "${T_B[$t]}" "${T_NAMEB[$t]}"), ping across the tunnel: $across"
}

# topo_learn_templates [SECONDS]: waits until every template instance is up
# on its hub and its spoke's tunnel has the address mode config handed out,
# then records the instance's interface and both ends (T_IFA, T_ADDR). Once
# recorded, a hub restarted since must have handed out the same: dies if not.
topo_learn_templates() {
    local timeout=${1:-60} t
    for t in "${TOPO_TUNNELS[@]}"; do
        topo_is_template "$t" || continue
        lab_wait "$timeout" "${T_A[$t]}'s instance for ${T_BRANCH[$t]} with its address on ${T_B[$t]}'s ${T_IFB[$t]}" \
            _topo_instance_ready "$t"
        local ifname ours theirs
        read -r ifname ours theirs < <(_topo_instance "$t")
        if [[ -n ${T_ADDR[${t}a]:-} && "${T_IFA[$t]} ${T_ADDR[${t}a]} ${T_ADDR[${t}b]}" != "$ifname $ours $theirs" ]]; then
            lab_die "${T_A[$t]} gave ${T_BRANCH[$t]} $ifname $ours/$theirs, before ${T_IFA[$t]} ${T_ADDR[${t}a]}/${T_ADDR[${t}b]}: not stable per identity"
        fi
        T_IFA[$t]=$ifname T_ADDR[${t}a]=$ours T_ADDR[${t}b]=$theirs
        echo "  tunnel $t: ${T_A[$t]} $ifname $ours <-> $theirs ${T_IFB[$t]} ${T_B[$t]} (mode config)" >&2
    done
}

# _topo_instance T: "INTERFACE HUB_ADDRESS SPOKE_ADDRESS" of T's instance on its hub.
_topo_instance() {
    local json
    json=$(tmesh "${T_A[$1]}" status --json 2>/dev/null) || return 1
    "$LAB_PYTHON" -c '
import json, sys
d = json.loads(sys.argv[1])
i = next(i for t in d.get("templates") or [] for i in t["instances"] if i["branch"] == sys.argv[2] and i.get("state", "up") == "up")
print(i["interface"], i["address"].split("/")[0], i["branch-address"])' "$json" "${T_BRANCH[$1]}"
}

_topo_instance_ready() {
    local ifname ours theirs
    read -r ifname ours theirs < <(_topo_instance "$1") || return 1
    ip -n "${TOPO_NS[${T_B[$1]}]}" -4 -o addr show dev "${T_IFB[$1]}" | grep -q "inet $theirs/31 "
}

# topo_up DESCRIPTION...: parse, build, configure, start FRR and mesh-site,
# wait until everything is up and routed.
topo_up() {
    topo_parse "$@"
    [[ $TOPO_ROUTING == none ]] || frr_require
    [[ -z $TOPO_BFD || -x $FRR_BIN/bfdd ]] || lab_skip "needs FRR's bfdd ($FRR_BIN/bfdd) for BFD"
    lab_info "topology: $*${TOPO_BFD:+ (BFD $TOPO_BFD on every tunnel)}"
    topo_describe >&2
    topo_build
    topo_write_configs
    if ((TOPO_ZEBRA)); then
        topo_write_frr
        topo_frr_start
        topo_mesh_start
    else
        # mesh-site first, so that zebra finds the tunnel interfaces in its
        # start-up dump: zebra 8.4 now and then misses the address of an
        # interface created a moment after it started (`show interface`
        # without its "inet" line, so ospfd never runs on it; 1 run in 4
        # here before mesh-site began re-adding the address at tunnel up).
        topo_mesh_start
        ((!TOPO_TEMPLATE)) || topo_learn_templates 60
        topo_write_frr
        topo_frr_start
    fi
    lab_info "waiting for every tunnel, adjacency and route"
    local t0=$SECONDS
    topo_wait_up 60
    lab_info "all up in $((SECONDS - t0)) s"
}

# topo_load SECONDS [RATE]: iperf3 --bidir over every tunnel at once for
# SECONDS, between the two ends' tunnel addresses (side b serves on port
# 5300+T, side a connects), so that every tunnel is saturated in both
# directions (or carries RATE each way, iperf3's -b: 200M); waits for all of
# them and prints "T A_TO_B B_TO_A" per tunnel, in Gbit/s.
topo_load() {
    local secs=$1 rate=${2:-} t a b
    for t in "${TOPO_TUNNELS[@]}"; do
        b=$(topo_tun_addr "$t" b)
        lab_bg "load-server-$t" "${TOPO_NS[${T_B[$t]}]}" iperf3 -s -1 -B "$b" -p $((5300 + t))
        lab_wait 5 "iperf3 server on tunnel $t" _lab_listening "${TOPO_NS[${T_B[$t]}]}" $((5300 + t))
    done
    for t in "${TOPO_TUNNELS[@]}"; do
        a=$(topo_tun_addr "$t" a) b=$(topo_tun_addr "$t" b)
        lab_bg "load-$t" "${TOPO_NS[${T_A[$t]}]}" iperf3 -c "$b" -B "$a" -p $((5300 + t)) --bidir -t "$secs" ${rate:+-b "$rate"} -J
    done
    for t in "${TOPO_TUNNELS[@]}"; do
        lab_wait $((secs + 30)) "iperf3 over tunnel $t to end" _topo_load_done "$t"
        lab_kill "load-$t"
        lab_kill "load-server-$t"
        "$LAB_PYTHON" - "$t" "$LAB_DIR/load-$t.log" <<'PY'
import json, sys
try:
    end = json.load(open(sys.argv[2]))["end"]
    print(sys.argv[1], "%.3f" % (end["sum_received"]["bits_per_second"] / 1e9),
          "%.3f" % (end["sum_received_bidir_reverse"]["bits_per_second"] / 1e9))
except (ValueError, KeyError):
    print(sys.argv[1], "failed", "failed")
PY
    done
}

_topo_load_done() { ! lab_alive "load-$1"; }

# topo_bfd_sessions: "SITE PEER INTERFACE STATUS ID DOWNS" for every BFD
# session of every site (frr_bfd_sessions), sorted.
topo_bfd_sessions() {
    local s
    for s in "${TOPO_SITES[@]}"; do
        frr_bfd_sessions "${TOPO_NS[$s]}" | sed "s/^/$s /"
    done | sort
}

# topo_bfd_downs, topo_ospf_adjacency_losses: BFD sessions gone down and
# OSPF adjacencies that left Full so far, summed over the sites (their logs).
topo_bfd_downs() {
    local s n=0
    for s in "${TOPO_SITES[@]}"; do n=$((n + $(frr_bfd_state_downs "${TOPO_NS[$s]}"))); done
    echo "$n"
}
topo_ospf_adjacency_losses() {
    local s n=0
    for s in "${TOPO_SITES[@]}"; do n=$((n + $(frr_ospf_adjacency_losses "${TOPO_NS[$s]}"))); done
    echo "$n"
}

# topo_show_routing: adjacencies and routes of every site, as an operator
# would look at them.
topo_show_routing() {
    local s
    for s in "${TOPO_SITES[@]}"; do
        lab_info "site $s (${TOPO_NS[$s]}): adjacencies and routes to the LANs"
        case $TOPO_ROUTING in
            ospf) pretty "${TOPO_NS[$s]}" "vtysh -c 'show ip ospf neighbor'"; vty "${TOPO_NS[$s]}" "show ip ospf neighbor" >&2 ;;
            bgp) pretty "${TOPO_NS[$s]}" "vtysh -c 'show bgp ipv4 unicast summary'"; vty "${TOPO_NS[$s]}" "show bgp ipv4 unicast summary" | sed -n '/^Neighbor/,$p' >&2 ;;
        esac
        pretty "${TOPO_NS[$s]}" "ip route show (the LANs)"
        ip -n "${TOPO_NS[$s]}" -4 route show | grep '^10\.[0-9]*\.0\.0/24' | sed 's/^/    /' >&2
    done
}

#!/usr/bin/env bash
# The .deb on a fresh Debian 12, as an operator installs it:
#
#   cpack -G DEB (BUILD_DIR)  ->  mesh-site_VERSION_ARCH.deb
#   debootstrap --variant=minbase bookworm (+ systemd and man-db, for
#   systemd-analyze), apt set up as this machine's; packed once and cached as
#   BUILD_DIR/deb-test/bookworm-*.tar.zst, unpacked fresh for every run
#
# In that root (a chroot in its own mount and PID namespaces, so its mounts
# and processes end with it):
#   apt-get install ./mesh-site.deb      dependencies from Debian (shlibdeps)
#   mesh-site --version                  the project's version
#   mesh-site check-config -c /etc/mesh-site/example.toml    ok, no warning (mode 0600)
#   systemd-analyze verify mesh-site@example.service          no complaint
#   systemd-analyze security --offline=true                    exposure <= 3.0
#   apt-get purge mesh-site              every file of the package gone, /etc/mesh-site too
# The root is removed on exit, also after a failure or a TERM from timeout(1).
# Fetches Debian packages (as tools/install-deps.sh does), nothing else.
#
# usage: tests/interop/deb_package.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../../netns-lab/lib.sh"

build=$(readlink -f "${1:?usage: deb_package.sh BUILD_DIR}")
suite=bookworm
((EUID == 0)) || lab_skip "needs root (debootstrap, chroot, mount)"
for tool in debootstrap cpack dpkg-deb unshare chroot zstd flock; do
    command -v "$tool" >/dev/null || lab_skip "needs $tool (tools/install-deps.sh)"
done

work=$build/deb-test
mkdir -p "$work"
run_dir=""
inner=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    # The chroot's mounts and processes live in the namespaces of `unshare`,
    # which ignores TERM while it waits; KILLed, it takes its child, the PID
    # namespace's init, along (--kill-child), and with it every process and
    # mount in there.
    local i
    if [[ -n $inner ]]; then
        kill -KILL "$inner" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$inner" 2>/dev/null || break
            sleep 0.1
        done
    fi
    if [[ -n $run_dir && -d $run_dir ]]; then
        if grep -qF " $run_dir/" /proc/self/mountinfo; then
            echo "FAIL: mounts left under $run_dir; not removing it" >&2
            rc=1
        else
            rm -rf --one-file-system "$run_dir"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---------------------------------------------------------------- the package
lab_info "building the .deb (cpack -G DEB in $build)"
cmake --build "$build" --target mesh-site man_pages >/dev/null
version=$("$build/tools/mesh-site" --version | awk '{print $2}')
deb=$build/mesh-site_${version}_$(dpkg --print-architecture).deb
rm -f "$deb"
(cd "$build" && cpack -G DEB >/dev/null)
[[ -s $deb ]] || lab_die "cpack made no $deb"
dpkg-deb -I "$deb" | grep -E '^ (Version|Depends):' >&2
dpkg-deb -I "$deb" conffiles | grep -qx /etc/mesh-site/example.toml || lab_die "example.toml is not a conffile"

# ---------------------------------------------------------------- the cached base root
# This machine's apt setup: its active sources files, the keyrings they name,
# and the Acquire settings that decide whether the archive can be reached.
mapfile -t sources < <(ls /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null)
apt_conf=$(apt-config dump | grep -E '^Acquire::((https?|ftp)::Proxy(::[^ ]+)?|Check-Valid-Until|Check-Date) ' || true)
proxy=$(apt-config dump | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -n 1)
mirror=$(apt-cache policy | awk -v s="$suite/main" -v a="$(dpkg --print-architecture)" '$3 == s && $4 == a {print $2; exit}')
mirror=${mirror:-http://deb.debian.org/debian}
key=$( { echo "format 1 $suite minbase systemd,man-db $mirror"; cat "${sources[@]}"; echo "$apt_conf"; } | sha256sum | cut -c1-16)
tarball=$work/$suite-minbase-$key.tar.zst

build_base() {
    local tmp r file keyring
    # What a run killed on the way left (under the lock: no other is building).
    rm -rf --one-file-system "$work"/base.*
    tmp=$(mktemp -d "$work/base.XXXXXX")
    r=$tmp/root
    lab_info "debootstrap --variant=minbase --include=systemd,man-db $suite from $mirror (once; cached as $tarball)"
    # In a mount namespace of its own: debootstrap mounts proc in the new
    # root, and one killed on the way (a CI timeout) left it mounted on the
    # host, where no rm -rf could remove the folder after it.
    if ! http_proxy=${proxy:-${http_proxy:-}} unshare --mount --propagation private \
        debootstrap --variant=minbase --include=systemd,man-db \
        "$suite" "$r" "$mirror" >"$tmp/debootstrap.log" 2>&1; then
        tail -20 "$tmp/debootstrap.log" >&2
        rm -rf --one-file-system "$tmp"
        lab_die "debootstrap failed"
    fi
    rm -f "$r/etc/apt/sources.list" "$r"/etc/apt/sources.list.d/*
    for file in "${sources[@]}"; do
        if [[ $file == /etc/apt/sources.list ]]; then cp "$file" "$r/etc/apt/"; else cp "$file" "$r/etc/apt/sources.list.d/"; fi
    done
    while read -r keyring; do
        if [[ -f $keyring && ! -e $r$keyring ]]; then install -D -m 644 "$keyring" "$r$keyring"; fi
    done < <(sed -n 's/^Signed-By:[[:space:]]*\(\/[^[:space:]]*\).*/\1/Ip; s/.*signed-by=\(\/[^] ]*\).*/\1/Ip' "${sources[@]}" | sort -u)
    [[ -z $apt_conf ]] || echo "$apt_conf" >"$r/etc/apt/apt.conf.d/99host"
    rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin
    tar -C "$r" --numeric-owner -cf - . | zstd -q -T0 -3 >"$tmp/base.tar.zst"
    mv "$tmp/base.tar.zst" "$tarball"
    rm -rf --one-file-system "$tmp"
}
exec 9>"$work/.lock"
flock 9
[[ -s $tarball ]] || build_base
flock -u 9

# ---------------------------------------------------------------- a fresh root
run_dir=$(mktemp -d "$work/run.XXXXXX")
root=$run_dir/root
mkdir "$root"
zstd -q -dc "$tarball" | tar -C "$root" --numeric-owner -xpf -
cp "$deb" "$root/root/"
cat /etc/resolv.conf >"$root/etc/resolv.conf"
printf '#!/bin/sh\n# no daemon starts from a package script in this chroot\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# What runs inside: as root in the chroot, apt's network is this machine's.
cat >"$root/root/check.sh" <<'EOF'
set -euo pipefail
deb=$1 version=$2
export DEBIAN_FRONTEND=noninteractive
step() { echo "==> $*" >&2; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "apt-get install $deb"
apt-get update -q >/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log >&2; fail "apt-get update"; }
apt-get install -y -q --no-install-recommends "/root/$deb" >>/tmp/apt.log 2>&1 ||
    { tail -30 /tmp/apt.log >&2; fail "apt-get install"; }
dpkg-query -W -f '${Status} ${Version}\n' mesh-site | grep -qx "install ok installed $version" || fail "mesh-site $version not installed"

step "mesh-site --version"
[[ $(mesh-site --version) == "mesh-site $version" ]] || fail "mesh-site --version says '$(mesh-site --version)'"

step "mesh-site check-config -c /etc/mesh-site/example.toml"
[[ $(stat -c '%a %U' /etc/mesh-site/example.toml) == "600 root" ]] || fail "example.toml is $(stat -c '%a %U' /etc/mesh-site/example.toml), not 600 root"
mesh-site check-config -c /etc/mesh-site/example.toml >/tmp/check.out 2>/tmp/check.err || { cat /tmp/check.err >&2; fail "check-config"; }
[[ ! -s /tmp/check.err ]] || { cat /tmp/check.err >&2; fail "check-config warned"; }

step "systemd-analyze verify mesh-site@example.service"
ln -s /lib/systemd/system/mesh-site@.service /tmp/mesh-site@example.service
systemd-analyze verify /tmp/mesh-site@example.service >/tmp/verify.out 2>&1 || true
if [[ -s /tmp/verify.out ]]; then cat /tmp/verify.out >&2; fail "systemd-analyze verify complained"; fi
man -w mesh-site.toml >/dev/null && man -w 8 mesh-site >/dev/null || fail "man cannot find the pages"

step "systemd-analyze security --offline=true"
systemd-analyze security --offline=true --threshold=30 /tmp/mesh-site@example.service | tail -1 >&2 ||
    fail "exposure above 3.0"

step "apt-get purge mesh-site"
dpkg -L mesh-site | sort >/tmp/files
apt-get purge -y -q mesh-site >>/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log >&2; fail "apt-get purge"; }
status=$(dpkg-query -W -f '${Status}' mesh-site 2>/dev/null || true)
[[ -z $status || $status == "unknown ok not-installed" ]] || fail "dpkg still has mesh-site: $status"
left=0
while read -r file; do
    [[ -e $file && ! -d $file ]] && { echo "left after purge: $file" >&2; left=1; }
done </tmp/files
for dir in /etc/mesh-site /usr/share/doc/mesh-site; do
    [[ -e $dir ]] && { echo "left after purge: $dir" >&2; left=1; }
done
((left == 0)) || fail "purge left files behind"
echo "ok: installed, checked and purged $(wc -l </tmp/files) paths" >&2
EOF

lab_info "installing, checking and purging it in a fresh $suite root ($run_dir)"
# shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
unshare --mount --pid --fork --kill-child --propagation private bash -euc '
    root=$1; shift
    mount --bind "$root" "$root"
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$root/run"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
    exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        /bin/bash /root/check.sh "$@"
' inner "$root" "$(basename "$deb")" "$version" </dev/null &
inner=$!
wait "$inner" || lab_die "the check in the fresh root failed (above)"
inner=""
echo "ok: $(basename "$deb") installs on a fresh $suite, runs, verifies and purges cleanly"

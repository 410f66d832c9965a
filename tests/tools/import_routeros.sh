#!/bin/bash
# Every RouterOS export of tests/tools/configs/routeros/ through
# `mesh-site import-routeros`, and its output through `mesh-site check-config`,
# which must pass: the files the output names (listed on stderr) are written
# first, secrets as placeholders and certificates from a CA made here.
#   usage: import_routeros.sh MESH_SITE
set -euo pipefail

mesh_site=$(realpath "$1")
examples=$(dirname "$(realpath "$0")")/configs/routeros
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077

make_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj "/CN=import-routeros test CA" -keyout "$1/ca-signing.key" -out "$1/ca.pem" 2>/dev/null
}

make_leaf() {   # DIR NAME: NAME.pem signed by DIR's CA, its key NAME.key
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2" \
        -keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null
    openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca-signing.key" -CAcreateserial \
        -days 30 -out "$1/$2.pem" 2>/dev/null
}

count=0
for rsc in "$examples"/*.rsc; do
    name=$(basename "$rsc" .rsc)
    dir=$work/$name
    mkdir "$dir"
    echo "== $name.rsc"
    "$mesh_site" import-routeros "$rsc" > "$dir/$name.toml" 2> "$dir/summary"
    cat "$dir/summary"
    grep -q "^import-routeros: $rsc (RouterOS 7\.[0-9.]*): [0-9]* commands" "$dir/summary"
    files=$(sed -n 's/^import-routeros: files the output names, to write next to it: //p' "$dir/summary")
    case " $files " in *" ca.pem "*) make_ca "$dir" ;; esac
    for file in $files; do
        case $file in
            *.psk) echo "placeholder-key-$name" > "$dir/$file" ;;
            ca.pem | *.key) ;;
            *.pem) make_leaf "$dir" "${file%.pem}" ;;
            *) echo "unexpected file named by the output: $file" >&2; exit 1 ;;
        esac
    done
    if ! "$mesh_site" check-config -c "$dir/$name.toml"; then
        cat -n "$dir/$name.toml" >&2
        exit 1
    fi
    count=$((count + 1))
done
[ "$count" -ge 4 ] || { echo "expected at least 4 examples, found $count" >&2; exit 1; }
echo "all $count RouterOS exports imported and checked"

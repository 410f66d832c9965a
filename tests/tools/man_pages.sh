#!/usr/bin/env bash
# The generated man pages (cmake/Install.cmake) exist and say what they must:
# mesh-site(8) every subcommand `mesh-site --help` lists, mesh-site.toml(5)
# every key of docs/configuration.md's tables.
#   man_pages.sh MESH_SITE_BINARY MAN_DIR DOCS_DIR
set -euo pipefail
binary=$1 man_dir=$2 docs=$3
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

# The text of a roff page: escaped hyphens and font changes undone.
text_of() { sed -e 's/\\-/-/g' -e 's/\\f[BIRPC]//g' -e 's/\\\[[a-z]*\]//g' "$1"; }

for page in mesh-site.8 mesh-site.toml.5; do
  [[ -s $man_dir/$page && -s $man_dir/$page.gz ]] || fail "$man_dir/$page(.gz) missing or empty"
  [[ -s $man_dir/$page ]] || continue
  grep -q '^\.TH' "$man_dir/$page" || fail "$page has no .TH title line"
  grep -q '^\.SH NAME' "$man_dir/$page" || fail "$page has no NAME section"
done
((failed == 0)) || exit 1

commands=$(text_of "$man_dir/mesh-site.8")
mapfile -t subcommands < <("$binary" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }')
((${#subcommands[@]} > 0)) || fail "$binary --help lists no subcommand"
for sub in "${subcommands[@]}"; do
  grep -qF -- "mesh-site $sub" <<<"$commands" || fail "mesh-site.8 does not mention 'mesh-site $sub' (document it in docs/commands.md)"
done

keys_page=$(text_of "$man_dir/mesh-site.toml.5")
tick=$'\x60'   # a table row's first cell: | `key` |
mapfile -t keys < <(grep -o "^| ${tick}[a-z0-9-]*${tick}" "$docs/configuration.md" | tr -d "|$tick " | sort -u)
((${#keys[@]} > 20)) || fail "found only ${#keys[@]} keys in $docs/configuration.md's tables"
for key in "${keys[@]}"; do
  grep -qF -- "$key" <<<"$keys_page" || fail "mesh-site.toml.5 does not mention the key '$key'"
done
((failed == 0)) || exit 1
echo "ok: mesh-site.8 names ${#subcommands[@]} subcommands, mesh-site.toml.5 ${#keys[@]} keys"

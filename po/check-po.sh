#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Checks one translation against the sources as they are now: every message
# xgettext extracts from po/POTFILES is translated (none missing, none
# fuzzy), and msgfmt's format checks pass.
#
# usage: check-po.sh SOURCE_ROOT LANG
set -eu
top=$1
po="$top/po/$2.po"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The keywords of meson's "glib" preset that this project uses.
(cd "$top" && xgettext --files-from=po/POTFILES --from-code=UTF-8 --add-comments \
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dngettext:2,3 --flag=g_dngettext:2:pass-c-format \
  --flag=g_strdup_printf:1:c-format --flag=g_set_error:4:c-format \
  -o "$tmp/current.pot")

msgfmt --check-format --check-domain -o /dev/null "$po"
if ! msgcmp "$po" "$tmp/current.pot" >"$tmp/missing" 2>&1; then
  head -n 10 "$tmp/missing"
  echo "$po: $(grep -c 'used but not defined' "$tmp/missing") messages are not translated;"
  echo "run ninja cine-power-sync-update-po and translate them"
  exit 1
fi
fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$po" | grep -c '^msgid ' || true)
[ "$fuzzy" -eq 0 ] || { echo "$po: $fuzzy fuzzy messages"; exit 1; }
echo "$po: every message translated"

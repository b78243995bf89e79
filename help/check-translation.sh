#!/bin/sh
# check-translation.sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Builds one translation of the help the way it is installed (msgfmt, then itstool merges
# it into the C pages) and validates the translated pages, so a broken msgstr (lost or
# misspelled markup) fails `meson test` instead of silently falling back to English.
#
# usage: check-translation.sh HELP_SOURCE_DIR LANG WORK_DIR PAGE...
set -eu

src=$1
lang=$2
work=$3
shift 3

rm -rf "$work"
mkdir -p "$work/$lang"
msgfmt --check -o "$work/$lang.mo" "$src/$lang/$lang.po"
(cd "$src/C" && itstool -m "$work/$lang.mo" -o "$work/$lang/" "$@") >"$work/itstool.log" 2>&1 || {
  cat "$work/itstool.log"
  exit 1
}
# itstool reports a msgstr it cannot merge as a warning and keeps the English text
if grep -q . "$work/itstool.log"; then
  cat "$work/itstool.log"
  exit 1
fi
yelp-check validate "$work/$lang"
echo "help/$lang: $# files merged and valid"

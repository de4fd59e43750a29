#!/usr/bin/env bash
# Help, version and the man page.
source "$(dirname "$0")/lib.sh"
$LEMONADE --version | grep -qE '^lemonade [0-9]+\.[0-9]+\.[0-9]+$' && ok version || fail version "$($LEMONADE --version)"
for c in "" train summary plot bench; do
    out=$($LEMONADE $c --help 2>&1); st=$?
    [ $st -eq 0 ] && echo "$out" | grep -q "^usage: lemonade" && echo "$out" | grep -qi "example" \
        && ok "help_${c:-search}" || fail "help_${c:-search}" "exit $st"
done
w=$(groff -man -Tutf8 -ww -z lemonade.1 2>&1); st=$?
[ $st -eq 0 ] && [ -z "$w" ] && ok man_page_renders_cleanly || fail man_page_renders_cleanly "exit $st: $w"
finish

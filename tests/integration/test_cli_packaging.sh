#!/usr/bin/env bash
# Issue 11, packaging: the man pages tunstackd(8) and tunstack(1), generated from --help at build
# time, render with `man -l` and without a groff warning (`groff -man -ww -z`), and mention every
# option their --help lists (each subcommand's for tunstack); the bash completions offer every such
# option too, and complete subcommands and values; the unit's Documentation= names both pages;
# `meson install` puts binaries, man pages, completions, the unit, libtunstack and its pkg-config file
# under the prefix. Needs no network namespace.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

TUNSTACK=${TUNSTACK:-$TS_BUILD/tools/tunstack}
ts_require_daemon
[[ -x $TUNSTACK ]] || ts_fail "tunstack not built: $TUNSTACK"
TMP=$(mktemp -d /tmp/tst-cli_packaging.XXXXXX)
trap 'rm -rf -- "$TMP"' EXIT
MAN8=$TS_BUILD/tools/tunstackd.8
MAN1=$TS_BUILD/tools/tunstack.1
[[ -s $MAN8 && -s $MAN1 ]] || ts_fail "man pages not built ($MAN8, $MAN1): help2man missing? (tools/setup)"

# every long option (and -o) a --help text lists
flags_of() { grep -oE '(^|[ ,])(--[a-z][a-z0-9-]*|-o)' | grep -oE -- '-[-a-z0-9]+' | sort -u; }
check_page() { # check_page PAGE HELP-TEXT-FILE
    local page=$1 help=$2 warn f missing=()
    warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    [[ -z $warn ]] || ts_fail "groff warns about $page: $warn"
    MANWIDTH=100 timeout 10 man -l "$page" 2>"$TMP/man.err" | col -b >"$TMP/page.txt" ||
        ts_fail "man -l $page failed: $(cat "$TMP/man.err")"
    [[ ! -s $TMP/man.err ]] || ts_fail "man -l $page: $(cat "$TMP/man.err")"
    grep -q '^NAME' "$TMP/page.txt" && grep -q '^SEE ALSO' "$TMP/page.txt" || ts_fail "$page lacks NAME or SEE ALSO"
    # hyphenation at a line end may split an option: search the text with its line breaks joined
    tr '\n' ' ' <"$TMP/page.txt" | sed 's/‐ *//g; s/- \+\([a-z]\)/-\1/g' >"$TMP/page.joined"
    while read -r f; do
        grep -qF -- "$f" "$TMP/page.joined" || missing+=("$f")
    done < <(flags_of <"$help")
    ((${#missing[@]} == 0)) || ts_fail "$page does not mention: ${missing[*]}"
    echo "  ok   $page renders cleanly and mentions all $(flags_of <"$help" | wc -l) options of its --help"
}
"$TUNSTACKD" --help >"$TMP/d.help"
check_page "$MAN8" "$TMP/d.help"
{ "$TUNSTACK" --help; for s in get iperf3 stats conns; do "$TUNSTACK" "$s" --help; done; } >"$TMP/c.help"
check_page "$MAN1" "$TMP/c.help"

# ---- bash completion ----
complete_words() { # complete_words FILE WORD... — what the completion offers for the last WORD
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        "$(complete -p "$1" | awk "{print \$3}")"; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
CD=$TS_ROOT/tools/completion/tunstackd
CC=$TS_ROOT/tools/completion/tunstack
while read -r f; do
    # (no pipe into grep -q: with pipefail an early grep exit would fail the pipeline)
    grep -qxF -- "$f" <<<"$(complete_words "$CD" tunstackd "$f")" || ts_fail "completion of tunstackd does not offer $f"
done < <(flags_of <"$TMP/d.help")
for s in get iperf3 stats conns; do
    while read -r f; do
        grep -qxF -- "$f" <<<"$(complete_words "$CC" tunstack "$s" "$f")" ||
            ts_fail "completion of tunstack $s does not offer $f"
    done < <("$TUNSTACK" "$s" --help | flags_of)
done
[[ $(complete_words "$CC" tunstack "" | sort | tr '\n' ' ') == "--help --version conns get iperf3 stats " ]] ||
    ts_fail "tunstack <TAB>: $(complete_words "$CC" tunstack "" | tr '\n' ' ')"
[[ $(complete_words "$CD" tunstackd --cc "") == $'cubic\nnewreno' ]] || ts_fail "tunstackd --cc <TAB>"
[[ $(complete_words "$CC" tunstack conns --state est) == established ]] || ts_fail "tunstack conns --state est<TAB>"
grep -qx -- --json <<<"$(complete_words "$CC" tunstack stats --j)" || ts_fail "tunstack stats --j<TAB>"
echo "  ok   completions offer every option of tunstackd and tunstack get/iperf3/stats/conns, subcommands and values"

# ---- the unit points at the pages ----
grep -qE '^Documentation=.*man:tunstackd\(8\).*man:tunstack\(1\)' "$TS_ROOT/tools/tunstackd.service" ||
    ts_fail "the unit's Documentation= does not name tunstackd(8) and tunstack(1)"

# ---- meson install ----
timeout 120 meson install -C "$TS_BUILD" --no-rebuild --destdir "$TMP/dest" >"$TMP/install.log" 2>&1 ||
    ts_fail "meson install: $(tail -n 5 "$TMP/install.log")"
prefix=$(meson introspect "$TS_BUILD" --buildoptions | /usr/bin/python3 -c \
    'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
root=$TMP/dest$prefix
for f in bin/tunstackd bin/tunstack share/man/man8/tunstackd.8 share/man/man1/tunstack.1 \
    share/bash-completion/completions/tunstackd share/bash-completion/completions/tunstack \
    lib/systemd/system/tunstackd.service include/tunstack/stack/stack.hpp; do
    [[ -e $root/$f ]] || ts_fail "meson install did not install $prefix/$f"
done
compgen -G "$root/lib/*/libtunstack.so.0" >/dev/null && compgen -G "$root/lib/*/libtunstack.a" >/dev/null &&
    compgen -G "$root/lib/*/pkgconfig/tunstack.pc" >/dev/null || ts_fail "libtunstack (.so, .a, .pc) not installed"
echo "  ok   meson install: binaries, man pages, completions, unit, libtunstack + headers + tunstack.pc"
echo "PASS: $TS_TEST: man pages render and cover every option, completions cover every option, unit Documentation=, meson install"

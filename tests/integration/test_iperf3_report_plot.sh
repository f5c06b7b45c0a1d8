#!/usr/bin/env bash
# bench/e2e/plot_report.py (the iperf3 throughput report's plot) on the committed sample report
# bench/e2e/sample_report.json (a real run of bench/e2e/iperf3_report.sh): it writes a PNG of a
# sane size; a report without paths, a file that is no JSON and a missing file exit 1 with one
# line and write nothing. No network, no namespace.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/netns.sh"

PY=/usr/bin/python3
PLOT=$TS_ROOT/bench/e2e/plot_report.py
TMPD=$(mktemp -d /tmp/tst-iperf3_report_plot.XXXXXX)
trap 'rm -rf -- "$TMPD"' EXIT
timeout 60 "$PY" "$PLOT" "$TS_ROOT/bench/e2e/sample_report.json" "$TMPD/r.png" 2>"$TMPD/err" ||
    ts_fail "plot failed: $(cat "$TMPD/err")"
[[ $(head -c 8 "$TMPD/r.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || ts_fail "not a PNG"
size=$(stat -c %s "$TMPD/r.png")
((size > 10000 && size < 2000000)) || ts_fail "PNG of $size bytes"
echo '{"paths": []}' >"$TMPD/empty.json"
echo 'not json' >"$TMPD/bad.json"
for f in empty.json bad.json missing.json; do
    rc=0
    timeout 60 "$PY" "$PLOT" "$TMPD/$f" "$TMPD/$f.png" 2>"$TMPD/err" || rc=$?
    [[ $rc == 1 && $(wc -l <"$TMPD/err") == 1 && ! -e $TMPD/$f.png ]] ||
        ts_fail "$f: exit $rc, stderr: $(cat "$TMPD/err")"
done
ts_pass "plot_report.py draws the sample report ($size bytes PNG); bad reports exit 1 with one line"

#!/usr/bin/python3
"""Plot bench/e2e/iperf3_report.sh's JSON report as a PNG (Debian's python3-matplotlib).

Usage: plot_report.py REPORT.json OUT.png

Two panels for the report's paths (kernel -> tunstack, tunstack -> kernel, kernel -> kernel over
veth): throughput in Gbit/s with each run as a dot, and CPU seconds per Gbit moved (= cores per
Gbit/s) of the server process and of the iperf3 client. Exit 1 with one line on a bad report.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")  # no display
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) != 3:
        print("usage: plot_report.py REPORT.json OUT.png", file=sys.stderr)
        return 2
    try:
        report = json.load(open(argv[1]))
        paths = report["paths"]
        labels = [p["label"] for p in paths]
        gbps = [float(p["gbps"]) for p in paths]
        runs = [[float(g) for g in p.get("gbps_runs", [p["gbps"]])] for p in paths]
        server = [float(p["server_cpu_s_per_gbit"] or 0) for p in paths]
        client = [float(p["client_cpu_s_per_gbit"] or 0) for p in paths]
        servers = [p.get("server", "server") for p in paths]
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"plot_report: {argv[1]}: not a report: {e}", file=sys.stderr)
        return 1
    if not paths:
        print(f"plot_report: {argv[1]}: no paths", file=sys.stderr)
        return 1

    colors = ["tab:blue" if "tunstack" in p["path"] else "tab:gray" for p in paths]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    x = range(len(paths))
    bars = ax1.bar(x, gbps, color=colors)
    for i, rs in enumerate(runs):
        ax1.plot([i] * len(rs), rs, "k.", markersize=5)
    for b, g in zip(bars, gbps):
        ax1.annotate(f"{g:.2f}", (b.get_x() + b.get_width() / 2, b.get_height()),
                     ha="center", va="bottom", fontsize=9)
    ax1.set_xticks(list(x), labels, rotation=10)
    ax1.set_ylabel("Gbit/s (iperf3 receiver)")
    ax1.set_title("Throughput")

    w = 0.38
    ax2.bar([i - w / 2 for i in x], server, w, label="server process", color="tab:orange")
    ax2.bar([i + w / 2 for i in x], client, w, label="iperf3 client", color="tab:green")
    for i, (s, name) in enumerate(zip(server, servers)):
        ax2.annotate(name, (i - w / 2, s), ha="center", va="bottom", fontsize=8)
    ax2.set_xticks(list(x), labels, rotation=10)
    ax2.set_ylabel("CPU seconds per Gbit (= cores per Gbit/s)")
    ax2.set_title("CPU cost")
    ax2.legend()

    fig.suptitle(f"tunstack vs the kernel, iperf3 -P {report.get('parallel', 1)} "
                 f"-t {report.get('seconds', '?')}, {report.get('date', '')}, "
                 f"kernel {report.get('kernel', '?')}, {report.get('cores', '?')} cores"
                 + (f", tunstackd {report['daemon_args']}" if report.get("daemon_args") else ""),
                 fontsize=10)
    fig.tight_layout()
    try:
        fig.savefig(argv[2], dpi=100)
    except OSError as e:
        print(f"plot_report: {argv[2]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

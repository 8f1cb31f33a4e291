"""Chart of the refresh time of all views against the number of orders.

    python3 benchmarks/chart.py [--out docs/benchmark-refresh.png] [RESULTS.json ...]

Reads the results of refresh_benchmark.py (default: benchmarks/results-*.json)
and draws the wall-clock seconds of one refresh of all views, for the package's
default strategy (``default.seconds``) and the baseline (``baseline.seconds``:
plain REFRESH MATERIALIZED VIEW CONCURRENTLY, one view after another), against
the number of orders on a logarithmic axis, with the issue's target of 15 s at
1,000,000 orders. The subtitle gives the server and machine of the runs.
Needs matplotlib (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "docs" / "benchmark-refresh.png"
TARGET_SECONDS = 15
TARGET_ORDERS = 1_000_000


def load(paths: list[Path]) -> list[dict[str, Any]]:
    """The runs, by number of orders."""
    runs = [json.loads(path.read_text()) for path in paths]
    if not runs:
        raise SystemExit("no results: run benchmarks/refresh_benchmark.py first")
    return sorted(runs, key=lambda run: run["orders"])


def _orders(value: float, _position: object = None) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def subtitle(runs: list[dict[str, Any]]) -> str:
    """The servers and machines of the runs, each named once."""
    lines = list(dict.fromkeys(run["server"] for run in runs))
    # Without the load average at the start, which differs from run to run.
    lines += list(dict.fromkeys(run["machine"].split(", load average")[0]
                                for run in runs if run.get("machine")))
    settings = runs[-1].get("settings") or {}
    if settings:
        lines.append(", ".join(f"{name} {value}" for name, value in settings.items()
                               if name in ("shared_buffers", "work_mem",
                                           "maintenance_work_mem", "fsync")))
    return "\n".join(lines)


def draw(runs: list[dict[str, Any]], out: Path) -> Path:
    orders = [run["orders"] for run in runs]
    default = [run["default"]["seconds"] for run in runs]
    baseline = [run["baseline"]["seconds"] for run in runs]
    views = max(len(run["default"]["views"]) for run in runs)

    figure, axes = plt.subplots(figsize=(9, 5.6), dpi=120)
    axes.plot(orders, default, marker="o", linewidth=2, color="#1f77b4",
              label="default: refresh_views(url)")
    axes.plot(orders, baseline, marker="s", linewidth=2, linestyle="--", color="#7f7f7f",
              label="baseline: REFRESH … CONCURRENTLY, one view after another")
    for x, y in zip(orders, default, strict=True):
        axes.annotate(f"{y:.2f} s", (x, y), textcoords="offset points", xytext=(-8, 8),
                      ha="right", color="#1f77b4", fontsize=9)
    for x, y in zip(orders, baseline, strict=True):
        axes.annotate(f"{y:.2f} s", (x, y), textcoords="offset points", xytext=(8, -14),
                      ha="left", color="#555555", fontsize=9)
    axes.axhline(TARGET_SECONDS, color="#d62728", linewidth=1.2, linestyle=":")
    axes.plot([TARGET_ORDERS], [TARGET_SECONDS], marker="*", markersize=14, color="#d62728",
              linestyle="none", label=f"target: ≤ {TARGET_SECONDS} s at 1M orders")
    axes.annotate(f"target at 1M orders: ≤ {TARGET_SECONDS} s", (min(orders), TARGET_SECONDS),
                  textcoords="offset points", xytext=(0, 5), color="#d62728", fontsize=9)

    axes.set_xscale("log")
    low, high = min(orders + [TARGET_ORDERS]), max(orders + [TARGET_ORDERS])
    axes.set_xlim(low / 1.6, high * 1.6)
    axes.set_xticks(sorted(set(orders + [TARGET_ORDERS])))
    axes.xaxis.set_major_formatter(FuncFormatter(_orders))
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_ylim(0, max(default + baseline + [TARGET_SECONDS]) * 1.15)
    axes.set_xlabel("orders (log scale)")
    axes.set_ylabel("refresh of all views, wall seconds")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(loc="upper left", fontsize=9)
    figure.suptitle(f"Refresh time of all {views} analytics views against orders",
                    fontsize=13, fontweight="bold")
    axes.set_title(subtitle(runs), fontsize=8, color="#444444")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="*", type=Path,
                        help="results JSON files (default: benchmarks/results-*.json)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="the PNG to write (default: docs/benchmark-refresh.png)")
    args = parser.parse_args(argv)
    paths = args.results or sorted(HERE.glob("results-*.json"))
    print(f"wrote {draw(load(paths), args.out)}")


if __name__ == "__main__":
    main()

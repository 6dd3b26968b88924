"""p50 of every page at 1 k and at 100 k customers (``make bench-scale``); target within 1.2×.

    .venv/bin/python bench/scale.py [--rounds 2] [--seconds 5] [--page /billing ...]

Serves the two datasets of ``bench/dataset.py`` (``bench_1k`` and ``bench_100k``; any that is
missing is built first, so a fresh clone needs only this command) side by side and measures them
as ``make bench`` does on PostgreSQL (each run paired with a bare run just before it, signed-in
pages through the real forms), page by page in turn, so a drift in the machine's speed weighs on
both scales alike. It prints per page the p50 at each scale and their quotient, and the
quotient of the ratios to bare.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, dataset, run

TARGET = 1.2


def compare(small: dict, large: dict) -> list[dict]:
    """Per page: p50 at each scale, their quotient, and whether it is within TARGET."""
    by_name = {row["page"]: row for row in large["pages"]}
    rows = []
    for row in small["pages"]:
        other = by_name.get(row["page"])
        if other is None:
            continue
        p50 = other["p50_ms"] / row["p50_ms"] if row["p50_ms"] else None
        ratio = row["ratio"] / other["ratio"] if other["ratio"] else None
        rows.append(
            {
                "page": row["page"],
                "p50_small_ms": row["p50_ms"],
                "p50_large_ms": other["p50_ms"],
                "p50_quotient": p50,
                "ratio_quotient": ratio,
                "met": p50 is not None and p50 <= TARGET,
            }
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small-url", default=dataset.default_url(1_000))
    parser.add_argument("--large-url", default=dataset.default_url(100_000))
    run.add_load_options(parser)
    parser.set_defaults(rounds=2)
    args = parser.parse_args(argv)
    common.ensure_wrk()
    scales = (("1k", args.small_url, 1_000), ("100k", args.large_url, 100_000))
    for _, url, customers in scales:
        dataset.ensure(url, customers)
    with (
        tempfile.TemporaryDirectory(prefix="portal-scale-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        served = []
        for label, url, _ in scales:
            instance = Path(tmp) / label
            instance.mkdir()
            served.append(
                stack.enter_context(
                    run.serving(
                        "postgresql", common.sqlalchemy_url(url), args, instance, recreate=False
                    )
                )
            )
        common.log("measuring bench_1k and bench_100k in turn, page by page")
        measured = dict(
            zip((label for label, _, _ in scales), run.alternate(served, args), strict=True)
        )
    for label, result in measured.items():
        print(f"\n# {label}")
        run.report(result)
    rows = compare(measured["1k"], measured["100k"])
    print(
        "\n| page | p50 at 1 k (ms) | p50 at 100 k (ms) | 100 k ÷ 1 k"
        " | ratio-to-bare 1 k ÷ 100 k | ≤ 1.2× |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        print(
            f"| `{row['page']}` | {row['p50_small_ms']:.2f} | {row['p50_large_ms']:.2f}"
            f" | {row['p50_quotient']:.2f} | {row['ratio_quotient']:.2f}"
            f" | {'met' if row['met'] else 'NOT met'} |"
        )
    path = common.write_results(
        "scale",
        {
            "command": "bench/scale.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "machine": common.machine_note(),
            "runs": measured,
            "comparison": rows,
        },
    )
    print(f"\nresults: {path.relative_to(common.ROOT)}")
    rejected = any(m["rejected"] for m in measured.values())
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())

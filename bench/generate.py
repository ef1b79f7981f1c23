"""Write a synthetic OneRoster 1.2 CSV package: ``python bench/generate.py OUT [--preset demo|large] [--zip]``.

Runs as a plain script (no install needed), so it puts the repository root on ``sys.path`` itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import time  # noqa: E402

from gateway.synthetic import DEMO, LARGE, generate_bundle  # noqa: E402

PRESETS = {"demo": DEMO, "large": LARGE}


def main(argv: list[str] | None = None) -> int:
    """Generate the package and print the data rows per file; overrides apply on top of the preset."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output directory, or a path ending in .zip")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="demo")
    for field in dataclasses.fields(DEMO):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=int, metavar="N", dest=field.name)
    parser.add_argument("--district-id", default="demo")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--zip", action="store_true", help="write a zip with the CSV files at its root")
    args = parser.parse_args(argv)
    overrides = {field.name: getattr(args, field.name) for field in dataclasses.fields(DEMO)
                 if getattr(args, field.name) is not None}
    size = dataclasses.replace(PRESETS[args.preset], **overrides)
    started = time.perf_counter()
    counts = generate_bundle(args.out, size, district_id=args.district_id, seed=args.seed, zip=args.zip)
    for name, rows in counts.items():
        print(f"{name:<22} {rows:>9,}")
    print(f"{'total':<22} {sum(counts.values()):>9,}")
    print(f"wrote {args.out} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

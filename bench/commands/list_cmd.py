"""List the registered methods, datasets, metrics and tables."""

from __future__ import annotations

import argparse
import json

from ..registry import ALL_REGISTRIES

NAME = "list"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", nargs="?", choices=sorted(ALL_REGISTRIES),
                        help="list only this kind")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _summary(obj: object) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


def listing(kinds: list[str]) -> dict[str, dict[str, str]]:
    """kind -> name -> one-line description, for the requested kinds."""
    return {
        kind: {name: _summary(obj) for name, obj in ALL_REGISTRIES[kind].items()}
        for kind in kinds
    }


def run(args: argparse.Namespace) -> int:
    kinds = [args.kind] if args.kind else list(ALL_REGISTRIES)
    table = listing(kinds)
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    for kind in kinds:
        print(f"{kind}:")
        if not table[kind]:
            print("  (none registered)")
        width = max((len(n) for n in table[kind]), default=0)
        for name, summary in table[kind].items():
            print(f"  {name:<{width}}  {summary}".rstrip())
        errors = ALL_REGISTRIES[kind].plugin_errors
        for name, why in sorted(errors.items()):
            print(f"  {name:<{width}}  (plugin failed to load: {why})")
    return 0

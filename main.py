#!/usr/bin/env python3
"""Backprop Studio entry point: no arguments opens the window; `train`, `walkthrough` run headless."""
import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in ("--gui",):
        from engine.cli import main as cli_main
        return cli_main(argv)
    from gui.app import run
    return run(argv[1:] if argv else [])


if __name__ == "__main__":
    sys.exit(main())

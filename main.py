#!/usr/bin/env python3
"""Backprop Studio entry point: no arguments opens the window; `main.py RUN.json` opens the window
on that saved experiment; `train`, `walkthrough` run headless."""
import sys

GUI_FLAG = "--gui"


def route(argv: list[str]) -> tuple[str, str | None, list[str]]:
    """Where a command line goes: ``("gui", experiment file or None, Qt's arguments)`` or
    ``("cli", None, argv)``.  An experiment file (``*.json``) as the first argument (after an
    optional ``--gui``) opens the window on it; ``train`` / ``walkthrough`` / ``--help`` and
    anything else go to the command line."""
    rest = list(argv)
    gui = False
    if rest and rest[0] == GUI_FLAG:
        gui, rest = True, rest[1:]
    if rest and rest[0].lower().endswith(".json") and not rest[0].startswith("-"):
        return "gui", rest[0], rest[1:]
    if gui or not rest:
        return "gui", None, rest
    return "cli", None, rest


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    where, path, rest = route(argv)
    if where == "cli":
        from engine.cli import main as cli_main
        return cli_main(rest)
    if path is None:
        from gui.app import run
        return run(rest)
    return run_with_experiment(path, rest)


def run_with_experiment(path: str, qt_args: list[str]) -> int:
    """The window, opening the experiment ``path`` (a file it cannot open is a message in the
    window, which then stays on its usual start)."""
    from gui.app import create_window, ensure_app
    app = ensure_app(qt_args)
    w = create_window()
    w.show()
    w.open_experiment(path)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())

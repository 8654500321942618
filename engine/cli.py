"""The headless command line: ``train``, ``walkthrough`` and ``export-torch``.

``main(argv)`` returns the exit status: 0 on success, 2 for bad arguments or unusable
input (one line on stderr saying what is wrong), 1 if training diverged.  Progress goes to
stderr; the last line on stdout is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

from .config import (ACTIVATIONS, INITS, LOSSES, MAX_BATCH, MAX_CLASSES, MAX_EPOCHS,
                     MAX_IMAGE_SIZE, MAX_SAMPLES, MAX_SEED, MAX_SUBSAMPLE, MAX_UNITS, OPTIMIZERS,
                     PREPROCESS, REGULARIZERS, SCHEDULES, ConfigError, ExperimentConfig, apply_defaults,
                     dataset_defaults, describe_defaults)
from .datasets import DatasetError, load_dataset
from .datasets.registry import dataset_names, describe_kinds, names_that
from .experiment import (Experiment, ExperimentError, check_save_target, experiment_of_run, experiment_path,
                         inputs_of, json_safe, load_experiment, save_experiment, weights_mismatch)
from .expr import ExpressionError, evaluate, parse_values
from .presets import PRESETS, apply_preset
from .safeio import one_line
from .trainer import Trainer
from .walkthroughs import WalkthroughError


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit status 2 (raised, so main() controls output)
        raise UsageError(f"{self.prog}: {message}")


def _bounded_int(field: str, lo: int, hi: int, unit: str = ""):
    """An argparse type: a whole number in lo..hi. argparse puts the flag before the message,
    which names the configuration field and the limit."""
    def parse(text: str) -> int:
        t = text.strip()
        if len(t.lstrip("+-")) > 30:    # int() of thousands of digits is slow, and no setting needs them
            raise argparse.ArgumentTypeError(f"{field} must be in {lo}..{hi:,}; got a number of "
                                             f"{len(t)} characters")
        try:
            v = int(t)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{field} must be a whole number; got {text[:40]!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{field} must be in {lo}..{hi:,}{' ' + unit if unit else ''}; got {v}")
        return v
    return parse


def _positive_int_list(text: str) -> list[int]:
    """``--hidden 100,50``: layer sizes, each a whole number in 1..MAX_UNITS; "" or 0 = none."""
    text = text.strip()
    if text in ("", "0"):
        return []
    size = _bounded_int("each --hidden layer size", 1, MAX_UNITS, "units")
    return [size(part) for part in text.split(",")]


def _preset_name(text: str) -> str:
    if text not in PRESETS:
        raise argparse.ArgumentTypeError(f"unknown preset {text[:60]!r}; presets: {', '.join(PRESETS)}")
    return text


def _finite_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number: {text!r}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="backprop-studio", description="Backprop Studio: neural networks as in the lecture. "
                "Without a command the window opens.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    t = sub.add_parser("train", help="train a classifier headless; the last stdout line is JSON")
    t.add_argument("--config", metavar="FILE", help="an experiment file (JSON) to start from; flags override it")
    t.add_argument("--preset", type=_preset_name, metavar="NAME",
                   help="start from a ready-made experiment; flags override it. "
                        + "; ".join(f"{k}: {p.title}" for k, p in PRESETS.items()))
    t.add_argument("--dataset", choices=dataset_names(), metavar="NAME", help=describe_kinds())
    t.add_argument("--classes", type=_bounded_int("dataset.classes", 2, MAX_CLASSES), metavar="K",
                   help="toy sets: number of classes")
    t.add_argument("--samples", type=_bounded_int("dataset.samples", 1, MAX_SAMPLES, "points per class"),
                   metavar="N", help="toy sets: points per class")
    t.add_argument("--noise", type=_finite_float, metavar="X", help="toy sets: noise")
    t.add_argument("--data-seed", type=_bounded_int("dataset.seed", 0, MAX_SEED), metavar="N",
                   help="seed of the toy data and the splits")
    t.add_argument("--data-dir", metavar="PATH", help=f"the folder {names_that(lambda d: d.reads_folder)} read")
    t.add_argument("--data-file", metavar="PATH", help=f"the file {names_that(lambda d: d.reads_file)} read")
    t.add_argument("--download", action="store_true", default=None,
                   help=f"{names_that(lambda d: d.downloads)}: fetch into the cache if missing")
    t.add_argument("--subsample", type=_bounded_int("dataset.subsample", 0, MAX_SUBSAMPLE), metavar="N",
                   help="use N training examples (0 = all)")
    t.add_argument("--val-fraction", type=_finite_float, metavar="X")
    t.add_argument("--test-fraction", type=_finite_float, metavar="X")
    t.add_argument("--preprocess", choices=PREPROCESS)
    t.add_argument("--bias-trick", action="store_true", default=None,
                   help="append a constant 1 feature to every example (W absorbs b)")
    t.add_argument("--image-size", type=_bounded_int("dataset.image_size", 1, MAX_IMAGE_SIZE), metavar="N",
                   help="image folders: resize to N x N")
    t.add_argument("--hidden", type=_positive_int_list, metavar="100,50",
                   help='hidden layer sizes; "" or 0 = the linear classifier')
    t.add_argument("--activation", metavar="NAME[,NAME...]",
                   help=f"one of {', '.join(ACTIVATIONS)}, or one per hidden layer")
    t.add_argument("--leaky-slope", type=_finite_float, metavar="X")
    t.add_argument("--elu-alpha", type=_finite_float, metavar="X")
    t.add_argument("--init", choices=INITS)
    t.add_argument("--loss", choices=LOSSES)
    t.add_argument("--margin", type=_finite_float, metavar="X")
    t.add_argument("--reg", choices=REGULARIZERS)
    t.add_argument("--reg-strength", type=_finite_float, metavar="X")
    t.add_argument("--optimizer", choices=OPTIMIZERS)
    t.add_argument("--lr", type=_finite_float, metavar="X")
    t.add_argument("--schedule", choices=SCHEDULES)
    t.add_argument("--batch-size", type=_bounded_int("optim.batch_size", 1, MAX_BATCH), metavar="N")
    t.add_argument("--epochs", type=_bounded_int("optim.epochs", 0, MAX_EPOCHS), metavar="N",
                   help="0 evaluates without training")
    t.add_argument("--seed", type=_bounded_int("seed", 0, MAX_SEED), metavar="N")
    t.add_argument("--save", metavar="FILE",
                   help="write the experiment: FILE (JSON) and its weights beside it (FILE-stem.<id>.weights.npz); "
                        "an existing FILE is replaced only if it is an experiment file")
    t.add_argument("--quiet", action="store_true", help="no progress on stderr")
    w = sub.add_parser("walkthrough", help="forward and backward through an expression's graph, or play a "
                                          "walkthrough file (a built-in one by name)")
    what = w.add_mutually_exclusive_group(required=True)
    what.add_argument("--expr", help='e.g. "(x+y)*z"')
    what.add_argument("--file", metavar="NAME|FILE",
                      help="a built-in walkthrough (its name or number, e.g. 02 or 02_sigmoid_neuron) or a "
                           "walkthrough file (.json): every frame's narration, in order")
    what.add_argument("--list", action="store_true", help="the built-in walkthroughs")
    w.add_argument("--values", default="", help="e.g. x=-2,y=5,z=-4")
    w.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    x = sub.add_parser("export-torch", help="write an experiment as a standalone PyTorch training script "
                                           "(and its arrays beside it, OUT.data.npz)")
    x.add_argument("experiment", metavar="RUN.json", help="an experiment file (its configuration and weights)")
    x.add_argument("out", metavar="OUT.py", help="the script to write; an existing file is replaced only if "
                                                 "it is an earlier export")
    return p


# the flag that sets each configuration path the per-dataset defaults may fill in
_FLAG_OF = {"dataset.preprocess": "--preprocess", "optim.lr": "--lr", "optim.epochs": "--epochs",
            "optim.batch_size": "--batch-size", "loss.reg_strength": "--reg-strength", "model.init": "--init"}


def _apply_flags(cfg: ExperimentConfig, a: argparse.Namespace) -> set[str]:
    """Put the flags given into ``cfg``; returns the configuration paths they set ("optim.lr", …)."""
    given = set()
    d, m, l, o = cfg.dataset, cfg.model, cfg.loss, cfg.optim
    pairs = [(d, "name", a.dataset), (d, "classes", a.classes), (d, "samples", a.samples),
             (d, "noise", a.noise), (d, "seed", a.data_seed), (d, "data_dir", a.data_dir),
             (d, "data_file", a.data_file), (d, "download", a.download), (d, "subsample", a.subsample),
             (d, "val_fraction", a.val_fraction), (d, "test_fraction", a.test_fraction),
             (d, "preprocess", a.preprocess), (d, "bias_trick", a.bias_trick), (d, "image_size", a.image_size),
             (m, "leaky_slope", a.leaky_slope), (m, "elu_alpha", a.elu_alpha), (m, "init", a.init),
             (l, "loss", a.loss), (l, "margin", a.margin), (l, "reg", a.reg), (l, "reg_strength", a.reg_strength),
             (o, "optimizer", a.optimizer), (o, "lr", a.lr), (o, "schedule", a.schedule),
             (o, "batch_size", a.batch_size), (o, "epochs", a.epochs), (cfg, "seed", a.seed)]
    section = {id(d): "dataset.", id(m): "model.", id(l): "loss.", id(o): "optim.", id(cfg): ""}
    for obj, name, value in pairs:
        if value is not None:
            setattr(obj, name, value)
            given.add(section[id(obj)] + name)
    if a.hidden is not None:
        m.hidden = a.hidden
        given.add("model.hidden")
    if a.activation is not None:
        acts = [s.strip() for s in a.activation.split(",") if s.strip()]
        for s in acts:
            if s not in ACTIVATIONS:
                raise UsageError(f"backprop-studio train: --activation: {s!r} is not one of {', '.join(ACTIVATIONS)}")
        if len(acts) == 1:
            acts = acts * len(m.hidden)
        m.activations = acts
    elif len(m.activations) != len(m.hidden):
        # --hidden changed the depth: repeat the first (or the default) activation
        m.activations = [m.activations[0] if m.activations else "relu"] * len(m.hidden)
    if a.epochs is not None and a.epochs < 0:
        raise UsageError("backprop-studio train: --epochs must be 0 or more")
    if a.activation is not None:
        given.add("model.activations")
    return given


def _loss_text(v: float) -> str:
    return f"{v:.4f}" if abs(v) < 1e5 else f"{v:.4g}"


def _save_protect(cfg: ExperimentConfig, a: argparse.Namespace, loaded: Experiment | None) -> list:
    """The run's inputs, which --save must never replace or remove: its data file and folder and,
    unless --save replaces the --config file itself, that file and its weights."""
    protect = inputs_of(cfg.dataset)
    if a.config and not (a.save and _same_file(a.config, a.save)):
        protect.append(a.config)
        if loaded is not None and loaded.weights_file is not None:
            protect.append(loaded.weights_file)
    return [p for p in protect if p]


def _same_file(x, y) -> bool:
    try:
        return os.path.samefile(x, experiment_path(y))
    except OSError:
        return False


def cmd_train(a: argparse.Namespace, out, err) -> int:
    weights = loaded = None
    if a.config and a.preset:
        raise UsageError("backprop-studio train: --preset and --config both give the whole experiment; use one")
    if a.config:
        loaded = load_experiment(a.config)
        cfg, weights = loaded.config, loaded.weights
    elif a.preset:
        cfg = apply_preset(a.preset)
    else:
        cfg = ExperimentConfig()
    given = _apply_flags(cfg, a)
    applied = {}
    if not a.config and not a.preset:    # an experiment file or a preset is taken as it is
        applied = apply_defaults(cfg, dataset_defaults(cfg.dataset.name), keep=given)
    cfg.validate()
    protect = _save_protect(cfg, a, loaded)
    if a.save:      # refuse a bad --save before training, not after
        check_save_target(a.save, protect)
    say = (lambda msg: None) if a.quiet else (lambda msg: print(msg, file=err, flush=True))
    if a.preset:
        say(f"[config] preset {a.preset}: {PRESETS[a.preset].title}"
            + (f" (overridden: {', '.join(sorted(given))})" if given else ""))
    if applied:
        flags = " / ".join(_FLAG_OF.get(p, p) for p in applied)
        say(f"[config] image-set defaults for {cfg.dataset.name}: {describe_defaults(applied)} "
            f"(override with {flags})")

    last = [0.0]

    def progress(frac, msg):
        now = time.monotonic()
        if now - last[0] > 0.5 or frac >= 1.0:
            last[0] = now
            say(f"[data] {msg} {frac * 100:.0f}%")

    data = load_dataset(cfg.dataset, progress=None if a.quiet else progress)
    say(f"[data] {data.summary()}")
    trainer = Trainer.from_config(cfg, data)
    if weights is not None:
        try:
            trainer.model.set_params(weights)
        except ConfigError as e:
            raise weights_mismatch(loaded, e) from None
        trainer.compute_initial()
        say("[model] weights loaded from the experiment file")
    say(f"[model] {trainer.model.describe()}")
    epochs = cfg.optim.epochs if cfg.optim.epochs >= 0 else 0
    total, data_loss, reg_loss = trainer.initial
    split = (f" = data {_loss_text(data_loss)} + regularization {_loss_text(reg_loss)}"
             if abs(reg_loss) > 0.01 * abs(total) else "")
    say(f"[train] step 0 loss {_loss_text(total)}{split} ({trainer.sanity_check()})")
    t_last = [time.monotonic()]

    def on_step(r):
        if r.epoch_end and not a.quiet:
            h = trainer.history
            say(f"[train] epoch {len(h.eval_epoch)}/{epochs}  step {r.step}  loss {r.loss:.4f}  "
                f"train acc {h.train_acc[-1]:.3f}  val acc {h.val_acc[-1]:.3f}  lr {r.lr:.3g}")
        elif not a.quiet and time.monotonic() - t_last[0] > 2.0:
            t_last[0] = time.monotonic()
            say(f"[train] step {r.step}  epoch {r.epoch:.2f}  loss {r.loss:.4f}")

    trainer.fit(epochs, on_step=on_step)
    if trainer.diverged:
        say(f"[train] stopped: {trainer.reason}")
    result = trainer.summary()
    result.update({"dataset": data.name, "model": trainer.model.describe(), "defaults_applied": applied})
    if a.save:
        path = save_experiment(a.save, experiment_of_run(cfg, trainer, results=result), protect=protect)
        result["saved"] = str(path)
        say(f"[save] {path}")
    print(json.dumps(json_safe(result)), file=out, flush=True)
    return 1 if trainer.diverged else 0


def cmd_export_torch(a: argparse.Namespace, out, err) -> int:
    """``export-torch RUN.json OUT.py``: the experiment as a PyTorch script (engine.torch_export)."""
    from .torch_export import export_torch_script
    if not os.path.exists(a.experiment):
        raise ExperimentError(f"{a.experiment}: no such experiment file")
    script, data = export_torch_script(a.experiment, a.out)
    print(f"[export] {script} (run: python {script} --print-losses) and its arrays {data}", file=err)
    print(json.dumps({"script": str(script), "data": str(data)}), file=out, flush=True)
    return 0


def _find_walkthrough(spec: str):
    """A built-in walkthrough named (or numbered) ``spec``, else the file ``spec``."""
    from .walkthroughs import builtin_walkthrough_paths, load_walkthrough
    for path in builtin_walkthrough_paths():
        if spec in (path.stem, path.name) or path.stem.split("_", 1)[0] == spec:
            return load_walkthrough(path)
    if not spec.lower().endswith(".json") and not os.path.exists(spec):
        names = ", ".join(p.stem for p in builtin_walkthrough_paths())
        raise UsageError(f"walkthrough: no built-in walkthrough {spec!r} (built-in: {names})")
    return load_walkthrough(spec)


def cmd_play(a: argparse.Namespace, out) -> int:
    """``walkthrough --file``: the walkthrough's frames, each with its narration headline."""
    from .walkthroughs import build_frames, fmt, narrate
    wt = _find_walkthrough(a.file)
    trace = wt.run()
    frames = build_frames(trace)
    labels = {n.id: wt.display.get(n.id, n.label) for n in wt.graph.ancestors(wt.output)}
    if not a.json:
        print(f"{wt.title} ({wt.source}): {len(frames)} frames", file=out)
        for fr in frames:
            head, _body = narrate(trace, fr, labels, wt=wt)
            print(f"  {fr.index:>3} {fr.kind:<8} {head}", file=out)
    print(json.dumps({"name": wt.name, "title": wt.title, "frames": len(frames),
                      "output": fmt(wt.output.value, 4)}), file=out)
    return 0


def cmd_walkthrough(a: argparse.Namespace, out, err) -> int:
    if a.list:
        from .walkthroughs import load_builtin_walkthroughs
        for wt in load_builtin_walkthroughs():
            print(f"{Path(wt.source).stem:<32} {wt.title}", file=out)
        return 0
    if a.file:
        return cmd_play(a, out)
    values = parse_values(a.values)
    parsed, trace = evaluate(a.expr, values)
    nodes = []
    for n in parsed.graph.ancestors(parsed.output):
        grad = float(n.grad) if n.grad is not None else 0.0
        nodes.append({"id": n.id, "name": n.label, "op": n.op_name,
                      "inputs": [p.id for p in n.parents], "value": float(n.value), "grad": grad})
    if not a.json:
        width = max(len(n["name"]) for n in nodes)
        print(f"f = {a.expr}", file=out)
        for n in nodes:
            ins = f"({', '.join('n%d' % i for i in n['inputs'])})" if n["inputs"] else ""
            print(f"  n{n['id']:<3} {n['name']:<{width}}  {n['op'] + ins:<18} value {n['value']:< 12.6g} "
                  f"df/d{n['name']} = {n['grad']:.6g}", file=out)
    doc = {"value": float(parsed.output.value),
           "gradients": {k: float(v.grad) for k, v in parsed.inputs.items()},
           "nodes": [{k: n[k] for k in ("id", "name", "op", "inputs", "value", "grad")} for n in nodes]}
    print(json.dumps(doc) if a.json else json.dumps(doc["gradients"]), file=out)
    return 0


def _join_dash_values(argv: list[str]) -> list[str]:
    """``--expr "-x^2"``: argparse takes a value starting with ``-`` for an option; join it."""
    out, i = [], 0
    while i < len(argv):
        if argv[i] == "--expr" and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append("--expr=" + argv[i + 1])
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv: list[str] | None = None, out=None, err=None) -> int:
    """Run one command; every failure is one line on ``err`` (status 2; 3 for a bug)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    argv = _join_dash_values(list(sys.argv[1:] if argv is None else argv))
    cmd = "backprop-studio"
    with warnings.catch_warnings():
        # NumPy's overflow warnings say nothing a diverging run does not say better.
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="numpy")
        if "--quiet" in argv:
            warnings.simplefilter("ignore")
        try:
            a = parser.parse_args(argv)
            cmd = f"backprop-studio {a.command}" if a.command else cmd
            if a.command == "train":
                return cmd_train(a, out, err)
            if a.command == "walkthrough":
                return cmd_walkthrough(a, out, err)
            if a.command == "export-torch":
                return cmd_export_torch(a, out, err)
            parser.print_help(out)
            return 0
        except UsageError as e:
            print(one_line(e), file=err)
        except (ConfigError, DatasetError, ExperimentError, ExpressionError, WalkthroughError) as e:
            print(f"{cmd}: error: {one_line(e)}", file=err)
        except MemoryError:
            print(f"{cmd}: error: not enough memory for this input", file=err)
        except KeyboardInterrupt:
            print("backprop-studio: interrupted", file=err)
            return 130
        except Exception as e:  # noqa: BLE001 - a bug: one line, the traceback on request
            if os.environ.get("BACKPROP_STUDIO_DEBUG"):
                raise
            print(f"{cmd}: internal error ({type(e).__name__}: {one_line(e)}); "
                  "run again with BACKPROP_STUDIO_DEBUG=1 for the details", file=err)
            return 3
    return 2

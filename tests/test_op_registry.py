"""Adding an activation is one ``register(Op(...))`` (issue 14): the configuration, the command
line, the networks, the labs and the walkthrough files read the activations from the registry
(engine.ops.OPS), and nothing else in engine/ or gui/ lists activation names again."""
import ast
import pathlib
import shutil
import subprocess
import sys

import numpy as np

from engine import labs as L
from engine import walkthroughs as W
from engine.config import ACTIVATIONS, LossConfig, ModelConfig
from engine.models import Network
from engine.ops import OPS, op_names

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_activations_are_the_registered_ones_in_the_panels_order():
    assert ACTIVATIONS == ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "identity")
    assert ACTIVATIONS == op_names("activation")
    assert L.ACTIVATION_NAMES == tuple(a for a in ACTIVATIONS if a != "identity")
    for a in ACTIVATIONS:
        ModelConfig(hidden=[3], activations=[a]).validate()
        assert a in W.ELEMENTWISE_OPS and OPS[a].title
    for a in L.ACTIVATION_NAMES:
        title, formula = L.activation_formula(a)
        assert title and formula


def test_the_titles_and_formulas_are_the_labs():
    assert [L.activation_formula(a) for a in ("sigmoid", "tanh", "relu", "leaky_relu", "elu")] == [
        ("Sigmoid", "σ(x) = 1 / (1 + e⁻ˣ)"),
        ("tanh", "tanh(x) = (e²ˣ − 1) / (e²ˣ + 1)"),
        ("ReLU", "max(0, x)"),
        ("Leaky ReLU", "max(αx, x)"),
        ("ELU", "x if x > 0, α(eˣ − 1) otherwise"),
    ]
    assert L.activation_params("leaky_relu") == ("slope",) and L.activation_params("elu") == ("alpha",)
    assert L.activation_params("relu") == ()


def test_walkthrough_gates_and_their_attrs_come_from_the_ops():
    assert W.ELEMENTWISE_OPS == {"add", "sub", "mul", "div", "neg", "pow", "exp", "log", "max", "min", "abs",
                                 "recip", "addc", "mulc", "copy", "relu", "sigmoid", "tanh", "leaky_relu", "elu",
                                 "identity"}
    assert W.GATE_ATTRS == {"addc": {"c": True}, "mulc": {"c": True}, "leaky_relu": {"slope": False},
                            "elu": {"alpha": False}, "hinge_loss": {"margin": False},
                            "regularization": {"kind": True, "strength": False, "l1_ratio": False}}
    assert set(op_names("gate", "activation", "layer", "loss")) == set(OPS)
    assert W.LOSS_OPS == set(op_names("loss")) == {"softmax_loss", "hinge_loss"}
    assert W.GATE_OPS - W.ELEMENTWISE_OPS - W.LOSS_OPS == {"affine", "regularization"}


def test_a_network_gives_each_activation_its_config_fields():
    m = ModelConfig(hidden=[3, 3, 3], activations=["leaky_relu", "elu", "tanh"], leaky_slope=0.1, elu_alpha=0.7)
    net = Network(2, 2, m, LossConfig(), rng=np.random.default_rng(0))
    assert [h.attrs for h in net.hidden_nodes] == [{"slope": 0.1}, {"alpha": 0.7}, {}]
    assert m.fields_in_use() == {"leaky_slope", "elu_alpha"}
    assert ModelConfig(hidden=[3], activations=["relu"]).fields_in_use() == set()
    for a in ACTIVATIONS:
        for field in OPS[a].config_attrs.values():
            assert field in ModelConfig.__dataclass_fields__


# A made-up activation added the way the docstring of engine/scalar_ops.py says: one registration
# appended to that file (in a copy of the engine).  It is offered, validated, plotted, allowed in
# walkthrough files, and trains a network whose backprop gradient matches the numerical one.
SOFTSIGN_OP = """

register(Op("softsign", 1, lambda v, a: (v[0] / (1 + np.abs(v[0])), None),
            local=lambda n: (1.0 / (1 + np.abs(n.parents[0].value)) ** 2,),
            symbol="ss", describe="softsign gate: local gradient 1 / (1 + |x|)²",
            kind="activation", title="Softsign", formula="x / (1 + |x|)"))
"""
SOFTSIGN = r"""
import pathlib, sys
import numpy as np
import engine
assert pathlib.Path(engine.__file__).parent == pathlib.Path(sys.argv[1]), engine.__file__
from engine import cli, config, labs, walkthroughs
from engine.config import ConfigError, LossConfig, ModelConfig
from engine.gradcheck import gradient_check
from engine.models import Network

assert config.ACTIVATIONS == ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "identity", "softsign")
ModelConfig(hidden=[4], activations=["softsign"]).validate()
try:
    ModelConfig(hidden=[4], activations=["softplus"]).validate()
    raise SystemExit("an unregistered activation was accepted")
except ConfigError as e:
    assert "identity, softsign" in str(e), e
args = cli.build_parser().parse_args(["train", "--activation", "softsign"])
assert args.activation is not None

assert labs.ACTIVATION_NAMES[-1] == "softsign"
assert labs.activation_formula("softsign") == ("Softsign", "x / (1 + |x|)")
x = np.linspace(-3, 3, 13)
y, dy = labs.activation_curve("softsign", x)
np.testing.assert_allclose(y, x / (1 + np.abs(x)))
np.testing.assert_allclose(dy, 1 / (1 + np.abs(x)) ** 2)

w = walkthroughs.walkthrough_from_dict({"name": "t", "title": "T", "nodes": [
    {"id": "x", "op": "input", "value": -0.5}, {"id": "f", "op": "softsign", "inputs": ["x"]}]})
assert all(r.rel_error < 1e-7 for r in w.gradient_check())

rng = np.random.default_rng(0)
X, yl = rng.standard_normal((6, 3)), rng.integers(0, 3, 6)
net = Network(3, 3, ModelConfig(hidden=[5], activations=["softsign"], dtype="float64"), LossConfig(), rng=rng)
assert net.hidden_nodes[0].op_name == "softsign"
errors = gradient_check(net, X, yl)
assert max(errors.values()) < 1e-6, errors
print("ok")
"""


def test_a_new_activation_is_one_registration(tmp_path):
    engine = tmp_path / "engine"
    shutil.copytree(ROOT / "engine", engine, ignore=shutil.ignore_patterns("__pycache__"))
    with open(engine / "scalar_ops.py", "a", encoding="utf-8") as f:
        f.write(SOFTSIGN_OP)
    r = subprocess.run([sys.executable, "-c", SOFTSIGN, str(engine)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr + r.stdout
    assert r.stdout.strip().endswith("ok")


def _activation_literals(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in ACTIVATIONS}


# engine/expr.py's FUNCTIONS are the expression language's function names (its own grammar: relu,
# sigmoid and tanh are offered by name there, on purpose a short list).
NOT_A_LIST_OF_ACTIVATIONS = {"engine/expr.py"}


def test_no_other_module_lists_or_tests_for_activation_names():
    """Outside engine/scalar_ops.py an activation name is only ever a value (a default such as
    ``["relu"]``): never a table of several, and never compared against (``name == "elu"``)."""
    found = []
    for path in sorted((ROOT / "engine").rglob("*.py")) + sorted((ROOT / "gui").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "engine/scalar_ops.py" or rel in NOT_A_LIST_OF_ACTIVATIONS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
                names = _activation_literals(node)
                if len(names) >= 2:
                    found.append(f"{rel}:{node.lineno}: lists {sorted(names)}")
            elif isinstance(node, (ast.Compare, ast.Match)):
                names = _activation_literals(node)
                if names:
                    found.append(f"{rel}:{node.lineno}: compares with {sorted(names)}")
    assert not found, "\n".join(found)

"""Training behaviour: the spiral case study, optimizers, schedules, divergence, mid-run changes."""
import math

import numpy as np
import pytest

from engine.config import ConfigError, DatasetConfig, ExperimentConfig, LossConfig, ModelConfig, OptimConfig
from engine.datasets import load_dataset
from engine.models import LinearClassifier, Network
from engine.optim import random_local_search, random_search, scheduled_lr
from engine.trainer import Trainer


def spiral_cfg(hidden, acts, **optim):
    # The CS231n case study: 3 classes x 100 points, noise 0.2, full batch, lr 1.0, init 0.01 randn.
    # It writes the L2 penalty as 0.5 * reg * sum(W^2) with reg = 1e-3; the lecture's R(W) = sum(W^2)
    # has no 0.5, so the same penalty is lambda = 5e-4 here.
    return ExperimentConfig(
        dataset=DatasetConfig(name="spiral", classes=3, samples=100, noise=0.2, val_fraction=0.0, test_fraction=0.0),
        model=ModelConfig(hidden=hidden, activations=acts, init="small", init_scale=0.01),
        loss=LossConfig(loss="softmax", reg="l2", reg_strength=5e-4),
        optim=OptimConfig(optimizer="sgd", lr=1.0, batch_size=300, **optim)).validate()


def test_spiral_case_study_linear_near_50_percent():
    cfg = spiral_cfg([], [])
    data = load_dataset(cfg.dataset)
    t = Trainer.from_config(cfg, data)
    t.fit(200)
    acc = t.evaluate("train")[3]
    assert 0.45 <= acc <= 0.58, acc     # CS231n reports 49%: a linear classifier cannot separate spirals


@pytest.mark.slow
def test_spiral_case_study_relu_mlp_above_98_percent():
    cfg = spiral_cfg([100], ["relu"])
    data = load_dataset(cfg.dataset)
    t = Trainer.from_config(cfg, data)
    t.fit(10000)
    assert t.evaluate("train")[3] > 0.98


def small_trainer(optimizer="sgd", lr=0.5, **kw):
    cfg = ExperimentConfig(dataset=DatasetConfig(name="gaussians", classes=3, samples=40, noise=0.1),
                           model=ModelConfig(hidden=[16], activations=["tanh"]),
                           optim=OptimConfig(optimizer=optimizer, lr=lr, batch_size=16, **kw), seed=3).validate()
    return Trainer.from_config(cfg, load_dataset(cfg.dataset))


@pytest.mark.parametrize("opt,lr", [("sgd", 0.5), ("momentum", 0.1), ("adam", 0.01)])
def test_gradient_optimizers_reduce_the_loss(opt, lr):
    t = small_trainer(opt, lr)
    first = t.evaluate("train")[0]
    t.fit(30)
    assert t.evaluate("train")[0] < 0.5 * first
    assert t.evaluate("val")[3] > 0.9


@pytest.mark.parametrize("opt", ["random-search", "random-local-search"])
def test_search_optimizers_never_accept_a_worse_minibatch_loss(opt):
    t = small_trainer(opt, search_scale=0.5, local_step=0.2)
    before = t.evaluate("train")[0]
    rejected = accepted = 0
    for _ in range(60):
        params_before = t.model.copy_params()
        r = t.step()
        if r.changed:
            accepted += 1
        else:
            rejected += 1
            for k, v in params_before.items():
                np.testing.assert_array_equal(t.model.params[k], v)
    assert accepted > 0 and rejected > 0
    assert t.evaluate("train")[0] < before


def test_step_is_exactly_one_minibatch_update_and_reports_what_changed():
    t = small_trainer()
    before = t.model.copy_params()
    r = t.step()
    assert r.step == 1 and t.steps == 1 and len(t.history.loss) == 1
    assert set(r.changed) == set(before)
    assert r.batch_size == 16 and r.epoch == pytest.approx(16 / len(t.data.y_train))
    assert any(not np.array_equal(before[k], t.model.params[k]) for k in before)


def test_epoch_end_records_accuracies():
    t = small_trainer()
    n = len(t.data.y_train)
    steps_per_epoch = math.ceil(n / 16)
    results = [t.step() for _ in range(steps_per_epoch)]
    assert results[-1].epoch_end and not any(r.epoch_end for r in results[:-1])
    assert len(t.history.train_acc) == 1 and 0 <= t.history.val_acc[0] <= 1


def test_divergence_stops_with_a_reason_and_no_exception():
    t = small_trainer(lr=1e12)
    for _ in range(200):
        r = t.step()
        if r.diverged:
            break
    assert r.diverged and t.diverged
    assert "learning rate" in r.reason and "smaller" in r.reason
    steps = t.steps
    assert t.step().diverged and t.steps == steps   # no further updates


def test_mid_run_changes_take_effect():
    t = small_trainer()
    t.step()
    t.set_learning_rate(0.01)
    t.set_batch_size(8)
    t.set_reg_strength(0.5)
    r = t.step()
    assert r.lr == 0.01 and r.batch_size == 8
    assert r.reg_loss == pytest.approx(0.5 * sum(float((t.model.params[w] ** 2).sum()) for w in ("W1", "W2")),
                                       rel=0.05)
    with pytest.raises(ConfigError):
        t.set_learning_rate(-1)


def test_reset_reinitialises_from_the_seed():
    t = small_trainer()
    initial = t.model.copy_params()
    t.fit(2)
    t.reset()
    assert t.steps == 0 and not t.history.loss
    for k, v in initial.items():
        np.testing.assert_array_equal(t.model.params[k], v)


def test_same_seed_same_run():
    a, b = small_trainer(), small_trainer()
    a.fit(3)
    b.fit(3)
    assert a.history.loss == b.history.loss


def test_schedules():
    o = OptimConfig(schedule="step", step_every=2, gamma=0.5)
    assert [scheduled_lr(o, 1.0, e) for e in (0, 1.9, 2, 4.5)] == [1.0, 1.0, 0.5, 0.25]
    o = OptimConfig(schedule="exponential", gamma=0.9)
    assert scheduled_lr(o, 1.0, 2) == pytest.approx(0.81)
    assert scheduled_lr(OptimConfig(), 0.3, 100) == 0.3


def test_lecture_random_search_functions():
    rng = np.random.default_rng(0)
    data = load_dataset(DatasetConfig(name="gaussians", classes=3, samples=50))
    net = LinearClassifier(2, 3)
    f = lambda: net.loss(data.X_train, data.y_train, grads=False)[0]  # noqa: E731
    best, hist = random_search(f, net.param_list(), 50, 1.0, rng)
    assert best == min(h[0] for h in hist) and f() == pytest.approx(best)
    assert all(hist[i][1] >= hist[i + 1][1] for i in range(len(hist) - 1))
    best2, hist2 = random_local_search(f, net.param_list(), 100, 0.1, rng)
    assert best2 <= best and f() == pytest.approx(best2)


def test_initialisations_scale():
    rng = np.random.default_rng(0)
    for init, std in (("small", 1e-4), ("xavier", np.sqrt(1 / 400)), ("he", np.sqrt(2 / 400))):
        net = Network(400, 10, ModelConfig(hidden=[300], activations=["relu"], init=init), rng=rng)
        assert net.params["W1"].std() == pytest.approx(std, rel=0.05)
        assert net.params["W1"].dtype == np.float32
        assert not net.params["b1"].any()


def test_impossible_models_are_refused():
    with pytest.raises(ConfigError, match="hidden"):
        ModelConfig(hidden=[0], activations=["relu"]).validate()
    with pytest.raises(ConfigError, match="activations"):
        ModelConfig(hidden=[3, 4], activations=["relu"]).validate()
    with pytest.raises(ConfigError, match="weights"):
        Network(100000, 10, ModelConfig(hidden=[100000, 100000], activations=["relu", "relu"]))
    with pytest.raises(ConfigError, match="classes"):
        Network(2, 1)


def test_float64_available_for_checks():
    net = Network(3, 2, ModelConfig(hidden=[4], activations=["relu"]))
    n64 = net.astype("float64")
    assert n64.params["W1"].dtype == np.float64
    np.testing.assert_allclose(n64.params["W1"], net.params["W1"])


@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam", "random-local-search"])
def test_state_dict_continues_a_run_exactly(opt):
    a = small_trainer(opt, 0.05)
    a.fit(2)
    state = a.state_dict()
    b = small_trainer(opt, 0.05)
    b.load_state_dict(state)
    for _ in range(7):
        ra, rb = a.step(), b.step()
        assert ra.loss == rb.loss and ra.epoch == rb.epoch
    for k in a.model.params:
        np.testing.assert_array_equal(a.model.params[k], b.model.params[k])
    assert a.history.to_dict() == b.history.to_dict()


# ---------------------------------------------------------------- step 0: the initial loss and its sanity check
from engine.trainer import INITIAL_EXAMPLES, expected_initial_loss, sanity_check  # noqa: E402


def cifar_trainer(loss, preprocess="standardize", init="small", hidden=()):
    cfg = ExperimentConfig(dataset=DatasetConfig(name="cifar10-4k", preprocess=preprocess),
                           model=ModelConfig(hidden=list(hidden), activations=["relu"] * len(hidden), init=init),
                           loss=LossConfig(loss=loss)).validate()
    return Trainer.from_config(cfg, load_dataset(cfg.dataset))


@pytest.mark.parametrize("loss,expected,tol", [("softmax", math.log(10), 0.01), ("svm", 9.0, 0.05)])
def test_step0_loss_of_small_weights_is_the_lectures_sanity_check(loss, expected, tol):
    t = cifar_trainer(loss)
    total, data_loss, reg_loss = t.initial
    assert data_loss == pytest.approx(expected, abs=tol)
    assert total == pytest.approx(data_loss + reg_loss) and 0 <= reg_loss < 1e-3
    line = t.sanity_check()
    assert line.startswith("sanity check: small-weight") and f"here {data_loss:.2f}" in line
    assert ("ln 10 = 2.30" if loss == "softmax" else "(C−1)·Δ = 9.00") in line and "far" not in line
    # the same numbers as a direct evaluation of the first training examples, before any update
    n = min(INITIAL_EXAMPLES, len(t.data.y_train))
    assert t.initial == pytest.approx(t.model.loss(t.data.X_train[:n], t.data.y_train[:n], grads=False))
    assert t.steps == 0 and not t.history.loss


def test_step0_far_from_the_check_says_why():
    raw = cifar_trainer("softmax", preprocess="none", init="he", hidden=[20])
    assert raw.initial[1] > 10 * math.log(10)
    assert "far from it: the weights are not small (he init)" in raw.sanity_check()
    assert "preprocess the inputs" in cifar_trainer("softmax", preprocess="none").sanity_check()


def test_sanity_check_rule():
    assert expected_initial_loss("svm", 3, 2.0) == 4.0 and expected_initial_loss("softmax", 3, 1.0) == math.log(3)
    assert sanity_check("softmax", 10, 1.0, 2.31) == "sanity check: small-weight softmax starts near ln 10 = 2.30; here 2.31"
    assert sanity_check("svm", 10, 1.0, 8.99) == "sanity check: small-weight SVM starts near (C−1)·Δ = 9.00; here 8.99"
    assert "far from it" in sanity_check("svm", 10, 1.0, 12.0, "xavier") and "xavier" in sanity_check("svm", 10, 1.0, 12.0, "xavier")
    assert "already fit" in sanity_check("softmax", 10, 1.0, 0.4)
    assert "not finite" in sanity_check("softmax", 10, 1.0, math.nan)


def test_initial_follows_reset_new_weights_and_state():
    t = small_trainer()
    first = t.initial
    t.fit(5)
    assert t.initial == first                      # training does not move the step-0 loss
    trained = t.model.copy_params()
    t.reset()
    assert t.initial == pytest.approx(first)
    t.model.set_params(trained)
    t.compute_initial()
    assert t.initial[0] < 0.5 * first[0]           # the loaded (trained) weights' loss
    assert "already fit" in t.sanity_check() and "tanh init" not in t.sanity_check()
    other = small_trainer()
    other.load_state_dict(t.state_dict())
    assert other.initial == t.initial and other.sanity_check() == t.sanity_check()


def test_the_epoch_curve_measures_training_accuracy_on_1000_examples_and_the_summary_on_all():
    """As CS231n's Solver: the per-epoch training point on a fixed (shuffled) subset of 1,000
    examples, so a big training set does not stall every epoch; the final summary on every one."""
    from engine import trainer as tmod
    from engine.config import ExperimentConfig
    from engine.datasets import load_dataset
    cfg = ExperimentConfig()
    cfg.dataset.samples, cfg.dataset.classes = 700, 3          # 1,260 training points
    cfg.optim.batch_size = 2000
    t = tmod.Trainer.from_config(cfg, load_dataset(cfg.dataset))
    assert len(t.data.y_train) > tmod.EPOCH_TRAIN_EXAMPLES
    t.step()                                                   # one full-batch step: an epoch
    n = tmod.EPOCH_TRAIN_EXAMPLES
    sub = t.model.evaluate(t.data.X_train[:n], t.data.y_train[:n])
    full = t.model.evaluate(t.data.X_train, t.data.y_train)
    assert t.history.train_acc[-1] == sub[3] and t.history.train_loss[-1] == sub[0]
    assert t.summary()["train_accuracy"] == full[3]
    assert len(set(t.data.y_train[:n].tolist())) == 3          # the subset is shuffled: every class


def test_budget_spent_is_the_configured_epochs_and_never_for_until_stopped():
    from engine.config import ExperimentConfig
    from engine.datasets import load_dataset
    from engine.trainer import Trainer
    cfg = ExperimentConfig()
    cfg.dataset.samples, cfg.optim.batch_size, cfg.optim.epochs = 20, 16, 2
    t = Trainer.from_config(cfg, load_dataset(cfg.dataset))
    steps = 0
    while not t.budget_spent:
        t.step()
        steps += 1
        assert steps < 1000
    assert abs(t.epoch - 2) < 0.5 and t.epoch >= 2 - 1e-9
    t.cfg.optim.epochs = -1
    assert not t.budget_spent

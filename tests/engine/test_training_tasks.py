"""Built-in training tasks (engine.training.tasks): data, the proposed
networks, training to the lab's target, stop, and independence of runs."""

import threading
import time

import pytest

torch = pytest.importorskip("torch")

from engine.network import Network  # noqa: E402
from engine.training.tasks import (  # noqa: E402
    TASKS,
    make_task,
    proposed_network,
    train_network,
    two_pattern_network,
)


def _model(doc):
    return Network.from_dict(doc).to_torch(dtype=torch.float32)


def test_two_pattern_data_is_reproducible_and_class_specific():
    a = make_task("two_pattern", T=30, input_dim=12, seed=3)
    b = make_task("two_pattern", T=30, input_dim=12, seed=3)
    c = make_task("two_pattern", T=30, input_dim=12, seed=4)
    assert a.x_train.shape == (30, 256, 12) and a.x_test.shape == (30, 128, 12)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_train, b.y_train)
    assert not torch.equal(a.x_train, c.x_train)
    # spike trains: currents are 0 or the amplitude
    assert set(torch.unique(a.x_train).tolist()) == {0.0, 2.0}
    # each class fires more on its own half of the inputs
    rate = [(a.x_train[:, a.y_train == k] > 0).float().mean(dim=(0, 1)) for k in (0, 1)]
    high0, high1 = rate[0] > 0.12, rate[1] > 0.12
    assert high0.sum() == 6 and high1.sum() == 6 and not torch.any(high0 & high1)
    assert abs(float(rate[0][high0].mean()) - 0.2) < 0.02
    assert abs(float(rate[0][~high0].mean()) - 0.05) < 0.02
    assert int(a.y_train.sum()) == 128  # balanced


def test_digits_tasks_encode_the_pixels():
    cur = make_task("digits_current", T=5, amplitude=3.0)
    assert cur.x_train.shape == (5, 1437, 64) and cur.x_test.shape == (5, 360, 64) and cur.n_classes == 10
    assert torch.equal(cur.x_train[0], cur.x_train[4])  # constant in time
    assert float(cur.x_train.max()) == 3.0
    poi = make_task("digits_poisson", T=40, p_max=0.5, amplitude=1.0)
    # spike probability per step = 0.5 * intensity
    frac = poi.x_test.mean(dim=0)
    assert torch.allclose(frac.mean(), 0.5 * (cur.x_test[0] / 3.0).mean(), atol=0.01)


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "xor"}, "task"),
    ({"name": "two_pattern", "T": 0}, "T must"),
    ({"name": "two_pattern", "input_dim": 1}, "input_dim"),
    ({"name": "digits_current", "input_dim": 20}, "input_dim"),
    ({"name": "two_pattern", "amplitude": float("nan")}, "amplitude"),
    ({"name": "two_pattern", "p_high": 1.5}, "p_high"),
])
def test_bad_task_arguments_name_the_parameter(kwargs, match):
    name = kwargs.pop("name")
    with pytest.raises(ValueError, match=match):
        make_task(name, **kwargs)


def test_proposed_two_pattern_network_learns_to_95_percent_within_a_minute():
    model = _model(proposed_network("two_pattern"))
    task = make_task("two_pattern", T=25, input_dim=model.input_dim)
    before = [w.detach().clone() for w in model.weights.values()]
    rec = train_network(model, task, epochs=8, lr=0.05, batch_size=32)
    assert rec.elapsed_s < 60
    assert rec.history["test_acc"][-1] >= 95.0, rec.history["test_acc"]
    assert rec.history["loss"][-1] < 0.5 * rec.history["loss"][0]
    assert any(not torch.equal(a, b) for a, b in zip(before, model.weights.values()))


def test_digits_proposed_network_beats_chance():
    model = _model(proposed_network("digits_current"))
    task = make_task("digits_current", T=15)
    rec = train_network(model, task, epochs=2, lr=0.02, batch_size=64)
    assert rec.history["test_acc"][-1] > 50.0


def test_callback_stops_and_misfit_networks_are_refused():
    model = _model(two_pattern_network(10))
    task = make_task("two_pattern", T=10, input_dim=10)
    seen = []
    rec = train_network(model, task, epochs=5, batch_size=32, callback=lambda r: seen.append(r) or False)
    assert len(seen) == 1 and rec.batch == 0 and rec.epoch == 0
    with pytest.raises(ValueError, match="input_dim"):
        train_network(model, make_task("two_pattern", T=10, input_dim=11), epochs=1)
    with pytest.raises(ValueError, match="output"):
        train_network(model, _ten_class_task(10), epochs=1)  # 2 output neurons, 10 classes
    with pytest.raises(ValueError, match="learning rate"):
        train_network(model, task, lr=0.0)


def _ten_class_task(d):
    t = make_task("two_pattern", T=5, input_dim=d)
    t.n_classes = 10
    return t


def test_two_trainings_at_once_do_not_interfere():
    def run():
        model = _model(two_pattern_network(16))
        rec = train_network(model, make_task("two_pattern", T=15, input_dim=16, seed=2), epochs=2)
        return rec.history["loss"], [w.detach().clone() for w in model.weights.values()]

    alone = run()
    results = [None, None]

    def worker(i):
        results[i] = run()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert time.perf_counter() - t0 < 120
    for loss, weights in results:
        assert loss == alone[0]
        assert all(torch.equal(a, b) for a, b in zip(weights, alone[1]))


def test_task_menu():
    assert set(TASKS) == {"two_pattern", "digits_poisson", "digits_current"}

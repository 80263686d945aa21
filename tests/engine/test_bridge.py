"""Network.to_torch: same spikes as the NumPy backend, masked trainable
weights, write-back, training, and clear refusals."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.network import (  # noqa: E402
    ConstantCurrent,
    Network,
    Population,
    Projection,
    TimedArray,
)
from engine.training import TorchNetwork, network_to_torch  # noqa: E402

torch.set_num_threads(1)
DT = 0.001


def three_layer(seed=0, lapicque_refractory=2):
    inp = Population("LapicqueNeuron", 12, {"tau": 5.0, "refractory_period": lapicque_refractory}, label="in")
    hid = Population("StochasticLIFNeuron", 10, {"tau_mem": 10.0, "v_rest": 0.1, "v_reset": 0.1}, label="hid")
    out = Population("LapicqueNeuron", 4, {"tau": 8.0, "v_threshold": 0.4}, label="out")
    p1 = Projection(inp, hid, {"dist": "uniform", "low": -0.1, "high": 0.5}, probability=0.6, seed=seed)
    p2 = Projection(hid, hid, {"dist": "normal", "mean": 0.0, "std": 0.3}, probability=0.3, seed=seed + 1,
                    allow_self_connections=False, tau_syn=4.0)
    p3 = Projection(hid, out, {"dist": "uniform", "low": 0.0, "high": 1.2}, probability=0.7, seed=seed + 2)
    return Network(inp, hid, out, p1, p2, p3, seed=5), (inp, hid, out), (p1, p2, p3)


def numpy_trains(net, input_pop, inputs_b):
    """Run the NumPy backend on one batch entry's inputs (T, n_in) fed as a
    TimedArray; returns {label: (T, n) 0/1 array}."""
    stim = next((s for s in net.stimuli if isinstance(s, TimedArray)), None)
    if stim is None:
        stim = TimedArray(inputs_b, dt=DT, target=input_pop)
        net.add(stim)
    stim.values = np.array(inputs_b, dtype=np.float64)
    net.reset()
    T = inputs_b.shape[0]
    chunk = net.simulator("numpy", DT).advance(T)
    out = {}
    for pop in net.populations:
        arr = np.zeros((T, pop.n))
        steps, ids = chunk.spikes[pop.label]
        arr[steps, ids] = 1.0
        out[pop.label] = arr
    return out


def test_same_spikes_as_numpy_backend():
    net, (inp, hid, out), _ = three_layer()
    model = net.to_torch()
    assert isinstance(model, TorchNetwork)
    assert model.input_labels == ["in"] and model.output_labels == ["out"]
    gen = torch.Generator().manual_seed(1)
    inputs = torch.rand(80, 3, 12, generator=gen, dtype=torch.float64) * 3.0
    with torch.no_grad():
        counts, trains = model(inputs, return_spikes=True)
    assert counts.shape == (3, 4)
    total = {label: 0 for label in trains}
    for b in range(3):
        ref = numpy_trains(net, inp, inputs[:, b, :].numpy())
        for label, arr in ref.items():
            np.testing.assert_array_equal(trains[label][:, b, :].numpy(), arr, err_msg=f"{label}, batch {b}")
            total[label] += arr.sum()
        np.testing.assert_array_equal(counts[b].numpy(), ref["out"].sum(axis=0))
    assert all(v > 10 for v in total.values()), total  # every layer is active


def test_absent_edges_stay_zero_under_adam_with_weight_decay_and_sync_back():
    net, pops, projs = three_layer(seed=3)
    model = network_to_torch(net)
    masks = {key: getattr(model, f"mask_{key}").bool() for key in model.weights}
    for key, m in masks.items():
        assert (~m).any() and m.any()  # sparse: both present and absent edges
    gen = torch.Generator().manual_seed(2)
    inputs = torch.rand(30, 4, 12, generator=gen, dtype=torch.float64) * 3.0
    target = torch.tensor([[3.0, 0.0, 5.0, 1.0]] * 4, dtype=torch.float64)
    before = {k: v.detach().clone() for k, v in model.weights.items()}
    for opt in (torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=0.1),
                torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.1)):
        for _ in range(4):
            opt.zero_grad()
            loss = ((model(inputs) - target) ** 2).mean()
            loss.backward()
            for key, w in model.weights.items():
                assert torch.all(w.grad[~masks[key]] == 0)
            opt.step()
    changed = False
    for key, w in model.weights.items():
        assert torch.all(w.detach()[~masks[key]] == 0), key  # exactly zero, not merely small
        changed |= not torch.equal(w.detach()[masks[key]], before[key][masks[key]])
    assert changed  # the optimiser did move the present edges

    nnz = [p.nnz for p in projs]
    model.sync_to_network()
    for (proj, key) in zip(projs, ["proj0", "proj1", "proj2"]):
        assert proj.nnz == nnz.pop(0)  # the sparsity pattern is untouched
        np.testing.assert_array_equal(proj.to_dense(), model.effective_weight(key).detach().numpy())
    # the NumPy backend now runs the learned weights and agrees with the module
    with torch.no_grad():
        _, trains = model(inputs[:, :1], return_spikes=True)
    ref = numpy_trains(net, pops[0], inputs[:, 0].numpy())
    for label, arr in ref.items():
        np.testing.assert_array_equal(trains[label][:, 0].numpy(), arr)


def test_training_separates_two_input_patterns():
    torch.manual_seed(0)
    inp = Population("StochasticLIFNeuron", 8, {"tau_mem": 5.0}, label="in")
    hid = Population("LapicqueNeuron", 16, {"tau": 10.0}, label="hid")
    out = Population("LapicqueNeuron", 2, {"tau": 10.0}, label="out")
    net = Network(inp, hid, out,
                  Projection(inp, hid, {"dist": "uniform", "low": 0.0, "high": 0.6}, probability=0.8, seed=1),
                  Projection(hid, out, {"dist": "uniform", "low": 0.0, "high": 0.6}, seed=2))
    model = net.to_torch(dtype=torch.float32)
    T, B = 25, 16
    labels = torch.arange(B) % 2
    pattern = torch.zeros(2, 8)
    pattern[0, :4] = 0.5  # class 0 drives the first half of the inputs
    pattern[1, 4:] = 0.5  # class 1 the second half
    x = pattern[labels].unsqueeze(0).expand(T, B, 8).contiguous()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x) * 0.5, labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    with torch.no_grad():
        pred = model(x).argmax(dim=1)
    assert torch.equal(pred, labels)


def test_default_inputs_and_outputs_and_explicit_choice():
    a = Population("LapicqueNeuron", 3, label="a")
    b = Population("LapicqueNeuron", 2, label="b")
    c = Population("LapicqueNeuron", 4, label="c")
    net = Network(a, b, c, Projection(a, c, 0.5), Projection(b, c, 0.5))
    m = net.to_torch()
    assert m.input_labels == ["a", "b"] and m.input_dim == 5 and m.output_labels == ["c"]
    assert m(torch.ones(5, 2, 5, dtype=torch.float64) * 2).shape == (2, 4)
    # no projection at all: every population is both input and output
    m2 = Network(Population("LapicqueNeuron", 3, label="x"), Population("LapicqueNeuron", 2, label="y")).to_torch()
    assert m2.input_dim == 5 and m2.output_labels == ["x", "y"]
    # a recurrent loop has no projection-free population: inputs must be named
    p = Population("LapicqueNeuron", 3, label="loop")
    loop = Network(p, Projection(p, p, 0.1))
    with pytest.raises(ValueError, match="input_populations"):
        loop.to_torch()
    m3 = loop.to_torch(input_populations=["loop"])
    assert m3.output_labels == ["loop"]
    with pytest.raises(ValueError, match="no population labelled 'nope'"):
        net.to_torch(output_populations=["nope"])
    with pytest.raises(ValueError, match=r"shape \(T, batch, 5\)"):
        m(torch.ones(5, 2, 4, dtype=torch.float64))


def test_unsupported_cases_raise_with_reason():
    def lif(**params):
        return Population("StochasticLIFNeuron", 3, params, label="lif")

    with pytest.raises(NotImplementedError, match="stimulus"):
        pop = lif()
        Network(pop, ConstantCurrent(0.1, target=pop)).to_torch()
    for params, reason in (({"noise_std": 0.1}, "noise_std"), ({"refractory_period": 2}, "refractory_period"),
                           ({"v_reset": -0.5}, "v_reset")):
        with pytest.raises(NotImplementedError, match=reason):
            Network(lif(**params)).to_torch()
    with pytest.raises(NotImplementedError, match="'izh'.*SCIzhikevichNeuron"):
        Network(Population("SCIzhikevichNeuron", 2, label="izh")).to_torch()
    a, b = Population("LapicqueNeuron", 2, label="a"), Population("LapicqueNeuron", 2, label="b")
    with pytest.raises(NotImplementedError, match="delay"):
        Network(a, b, Projection(a, b, 0.5, delay=2)).to_torch()
    a, b = Population("LapicqueNeuron", 2, label="a"), Population("LapicqueNeuron", 2, label="b")
    proj = Projection(a, b, 0.5)
    proj.plasticity = "stdp"  # as a future plastic projection would carry
    with pytest.raises(NotImplementedError, match="plastic"):
        Network(a, b, proj).to_torch()


# -- the surrogate choice stored in the network document (engine.training.spec) ----------
def _two_pop_doc(training=None, override=None):
    doc = {"schema_version": 1, "seed": 1,
           "populations": [{"label": "in", "model": "LapicqueNeuron", "n": 3, "params": {"tau": 5.0}},
                           {"label": "out", "model": "LapicqueNeuron", "n": 2, "params": {"tau": 5.0}}],
           "projections": [{"label": "w", "source": "in", "target": "out", "weight": 0.8}]}
    if training is not None:
        doc["training"] = training
    if override is not None:
        doc["populations"][1]["surrogate"] = override
    return doc


def test_training_entry_round_trips_and_is_completed():
    net = Network.from_dict(_two_pop_doc({"surrogate": "fast_sigmoid", "params": {"slope": 7}},
                                         {"name": "triangular", "params": {"width": 0.5}}))
    assert net.training == {"surrogate": "fast_sigmoid", "path": "custom_op", "params": {"slope": 7.0}}
    assert net.populations[1].surrogate == {"name": "triangular", "params": {"width": 0.5}}
    doc = net.to_dict()
    assert doc["training"] == net.training
    assert doc["populations"][1]["surrogate"] == {"name": "triangular", "params": {"width": 0.5}}
    assert "surrogate" not in doc["populations"][0]
    again = Network.from_dict(doc)
    assert again.training == net.training and again.populations[1].surrogate == net.populations[1].surrogate
    # a document without the entry writes none
    assert "training" not in Network.from_dict(_two_pop_doc()).to_dict()


@pytest.mark.parametrize("training, override, place", [
    ({"surrogate": "nope"}, None, "training.surrogate"),
    ({"surrogate": "atan_surrogate", "path": "fast"}, None, "training.path"),
    ({"surrogate": "atan_surrogate", "params": {"slope": 1.0}}, None, "training.params.slope"),
    ({"surrogate": "triangular", "params": {"width": -1}}, None, "training.params.width"),
    ({"surrogate": "atan_surrogate", "bogus": 1}, None, "training.bogus"),
    (None, {"name": "relu"}, "populations[1].surrogate.name"),
    (None, {"params": {}}, "populations[1].surrogate"),
    (None, {"name": "superspike", "params": {"beta": float("inf")}}, "populations[1].surrogate.params.beta"),
])
def test_bad_training_entry_names_the_place(training, override, place):
    with pytest.raises(ValueError, match=place.replace("[", r"\[").replace("]", r"\]")):
        Network.from_dict(_two_pop_doc(training, override))


def test_to_torch_uses_the_document_surrogate_per_population():
    net = Network.from_dict(_two_pop_doc({"surrogate": "sigmoid_surrogate", "path": "legacy_autograd",
                                          "params": {"slope": 3.0}},
                                         {"name": "superspike", "params": {"beta": 4.0}}))
    model = net.to_torch()
    assert model.surrogate_specs == [("sigmoid_surrogate", "legacy_autograd", {"slope": 3.0}),
                                     ("superspike", "legacy_autograd", {"beta": 4.0})]
    # an explicit surrogate_fn wins everywhere
    from engine.training import straight_through

    assert net.to_torch(surrogate_fn=straight_through).surrogate_specs is None
    # nothing stored: atan_surrogate with its reference alpha
    assert Network.from_dict(_two_pop_doc()).to_torch().surrogate_specs == [
        ("atan_surrogate", "custom_op", {"alpha": 2.0})] * 2


def _input_grad(doc):
    """d(output spike count)/d(input current) of a one-population network
    whose membrane sits far from threshold (v - threshold ~ -0.5)."""
    doc = dict(doc, populations=doc["populations"][:1], projections=[])
    model = Network.from_dict(doc).to_torch()
    x = torch.full((5, 1, 3), 0.5, dtype=torch.float64, requires_grad=True)
    model(x).sum().backward()
    return x.grad


def test_the_stored_surrogate_changes_the_gradient():
    # triangular with a narrow width has no gradient half a unit below threshold;
    # straight-through passes it everywhere: the stored choice is what trains
    narrow = _input_grad(_two_pop_doc({"surrogate": "triangular", "params": {"width": 0.1}}))
    st = _input_grad(_two_pop_doc({"surrogate": "straight_through"}))
    assert torch.all(narrow == 0)
    assert torch.all(st > 0)


def test_spec_module_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, engine.training.spec, engine.network; "
            "from engine.network import Network; Network.from_dict({'schema_version': 1, 'populations': [], "
            "'training': {'surrogate': 'triangular'}}); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

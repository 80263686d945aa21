"""What the palette offers, read from the engine.

Neuron models come from the model registry (grouped by ``category``);
stimulus sources are the stimulus classes of :mod:`engine.network.stimuli`,
their editable arguments read from the engine's declarations
(:mod:`engine.network.declare`) and validated by constructing the class.
"""

from __future__ import annotations

from engine.models import get_model, model_names

__all__ = ["model_groups", "stimulus_kinds", "stimulus_defaults", "stimulus_fields",
           "validate_stimulus"]

CATEGORY_ORDER = ["reference", "integrate-and-fire", "conductance-based", "oscillator", "map",
                  "rate", "hardware"]


def model_groups() -> dict[str, list[str]]:
    """``{category: [model names]}`` in a stable order."""
    groups: dict[str, list[str]] = {}
    for name in model_names():
        groups.setdefault(get_model(name).category, []).append(name)
    order = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    return dict(sorted(groups.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))


def _stimuli_module():
    try:
        from engine.network import stimuli
    except Exception:  # noqa: BLE001 - network layer not importable: palette shows why
        return None
    return stimuli


def stimulus_kinds() -> list[str]:
    mod = _stimuli_module()
    if mod is None:
        return []
    return [n for n in mod.__all__ if n != "Stimulus"]


def stimulus_class(kind: str):
    mod = _stimuli_module()
    if mod is None or kind not in stimulus_kinds():
        raise ValueError(f"unknown stimulus kind {kind!r}; known: {', '.join(stimulus_kinds())}")
    return getattr(mod, kind)


#: starting values of a new stimulus placed from the palette (a usable demo,
#: not engine defaults -- the engine's own defaults fill anything not listed)
_START = {
    "StepCurrent": {"onset": 100, "offset": 800, "amplitude": 1.5},
    "ConstantCurrent": {"amplitude": 1.2},
    "PoissonInput": {"n": 100, "rate_hz": 20.0, "weight": 0.6},
    "TimedArray": {"values": [0.0] * 100 + [1.5] * 400 + [0.5] * 300},
}

def stimulus_defaults(kind: str, dt: float | None = None) -> dict:
    """Arguments of a new stimulus placed from the palette: the engine's
    declared defaults, with a usable demo's values on top.  ``dt`` is left to
    the simulator (a stimulus takes the run's step), so it is not written."""
    from engine.network.declare import declarations

    out = {}
    start = _START.get(kind, {})
    for name, p in declarations(stimulus_class(kind)).items():
        if name == "dt":
            continue
        out[name] = start.get(name, p.default)
    return out


def stimulus_fields(kind: str, values: dict) -> list[dict]:
    """Editor fields of a stimulus, one per declared parameter (the
    declaration gives default, bounds, unit and doc)."""
    from neurocore_gui.editors import declared_fields

    fields = declared_fields(stimulus_class(kind).__name__, values)
    for f in fields:
        if f["name"] == "values" and isinstance(f["value"], (list, tuple)):
            # a current per step: comma-separated numbers read better than JSON
            f["kind"] = "str"
            f["value"] = ", ".join(f"{x:g}" if isinstance(x, (int, float)) else str(x) for x in f["value"])
    return fields


def parse_list(text: str) -> list[float]:
    parts = [p for p in str(text).replace(";", ",").replace("\n", ",").split(",") if p.strip()]
    try:
        return [float(p) for p in parts]
    except ValueError as exc:
        raise ValueError(f"values: expected comma-separated numbers ({exc})") from None


def validate_stimulus(kind: str, params: dict, name: str, value):
    """Engine verdict on ``params`` with ``name`` set to ``value``; returns the
    accepted (normalised) value."""
    if name == "values" and isinstance(value, str):
        value = parse_list(value)
    from neurocore_gui.graph import stimulus_params
    trial = stimulus_params(params)
    trial[name] = value
    stimulus_class(kind)(**trial)  # raises ValueError/TypeError naming the argument
    return value

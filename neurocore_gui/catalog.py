"""What the palette offers, read from the engine.

Neuron models come from the model registry (grouped by ``category``);
stimulus sources are the stimulus classes of :mod:`engine.network.stimuli`,
their editable arguments read from the constructor signature and validated
by constructing the class.
"""

from __future__ import annotations

import inspect

from engine.models import get_model, model_names

__all__ = ["model_groups", "stimulus_kinds", "stimulus_defaults", "stimulus_fields",
           "validate_stimulus", "STIM_UNITS"]

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

#: units shown next to stimulus arguments (documented in engine.network.stimuli)
STIM_UNITS = {"onset": "steps", "offset": "steps", "rate_hz": "Hz", "dt": "s", "n": "neurons",
              "amplitude": "current", "weight": "current", "seed": "", "values": "current per step"}


def _signature(kind: str) -> list[inspect.Parameter]:
    sig = inspect.signature(stimulus_class(kind).__init__)
    return [p for p in sig.parameters.values()
            if p.name not in ("self", "target", "label") and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def stimulus_defaults(kind: str, dt: float = 0.001) -> dict:
    out = {}
    start = _START.get(kind, {})
    for p in _signature(kind):
        if p.name in start:
            out[p.name] = start[p.name]
        elif p.name == "dt":
            out[p.name] = dt
        elif p.default is not inspect.Parameter.empty:
            out[p.name] = p.default
        else:
            out[p.name] = 0.0
    return out


def stimulus_fields(kind: str, values: dict) -> list[dict]:
    cls = stimulus_class(kind)
    doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
    fields = []
    for p in _signature(kind):
        v = values.get(p.name, p.default if p.default is not inspect.Parameter.empty else 0.0)
        if isinstance(v, bool):
            kind_ = "bool"
        elif isinstance(v, int):
            kind_ = "int"
        elif isinstance(v, (list, tuple)):
            kind_, v = "str", ", ".join(f"{x:g}" if isinstance(x, (int, float)) else str(x) for x in v)
        else:
            kind_ = "float"
        fields.append({"name": p.name, "kind": kind_, "value": v, "bounds": None,
                       "unit": STIM_UNITS.get(p.name, ""), "doc": doc if p.name == "amplitude" else "",
                       "options": None})
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

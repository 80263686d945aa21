"""Parameter editors generated from declarations.

A *field* is a plain dict ``{name, kind, value, bounds, unit, doc, options}``
(``kind`` in float/int/bool/str/select).  Fields for neuron models come from
the model's ``param`` declarations (:func:`model_fields`); the engine
validates every value (``validate`` callables raise ``ValueError`` naming the
parameter), the editor shows the error under the widget and keeps the last
valid value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable

import panel as pn
import panel_material_ui as pmui
import param

from engine.models import get_model

__all__ = ["model_fields", "field_from_param", "FieldEditor"]


def _fmt_bounds(bounds) -> str:
    if not bounds:
        return ""
    lo, hi = bounds
    if lo is None and hi is None:
        return ""
    lo = "-inf" if lo is None else f"{lo:g}"
    hi = "inf" if hi is None else f"{hi:g}"
    return f"[{lo}, {hi}]"


def field_from_param(p: param.Parameter, value) -> dict:
    """Describe a ``param`` declaration as an editor field."""
    kind = "float"
    options = None
    if isinstance(p, param.Boolean):
        kind = "bool"
    elif isinstance(p, param.Integer):
        kind = "int"
    elif isinstance(p, param.Number):
        kind = "float"
    elif isinstance(p, param.Selector):
        kind, options = "select", list(p.objects)
    elif isinstance(p, param.String):
        kind = "str"
    else:
        kind = "json"
    return {
        "name": p.name,
        "kind": kind,
        "value": value,
        "bounds": getattr(p, "bounds", None),
        "unit": getattr(p, "unit", "") or "",
        "doc": p.doc or "",
        "options": options,
        "allow_none": bool(getattr(p, "allow_None", False)),
    }


def declared_fields(kind: str, values: dict) -> list[dict]:
    """Editor fields of a network object kind (``"Projection"``, a stimulus
    class name) from the engine's declarations: adding a parameter there
    adds its field here."""
    from engine.network.declare import declarations

    return [field_from_param(p, values.get(name, p.default))
            for name, p in declarations(kind).items()]


def model_fields(model_name: str, values: dict | None = None) -> list[dict]:
    """Editor fields of a neuron model (defaults overridden by ``values``)."""
    cls = get_model(model_name)
    values = values or {}
    return [field_from_param(cls.param[n], values.get(n, cls.param[n].default))
            for n in cls.parameter_names()]


def validate_model_value(model_name: str, name: str, value, others: dict | None = None):
    """The engine's verdict on one parameter value, given the population's
    other parameters ``others`` (raises ``ValueError``)."""
    cls = get_model(model_name)
    try:
        inst = cls(**{**(others or {}), name: value})
    except ValueError:
        raise
    except Exception as exc:  # param raises ValueError mostly; normalise the rest
        raise ValueError(f"{name}: {exc}") from exc
    return getattr(inst, name)


def parse_json_field(name: str, text):
    """The value of a JSON text field ('' = None)."""
    if not isinstance(text, str):
        return text
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: not a number or JSON value ({exc.msg})") from None


def _label(f: dict) -> str:
    unit = f" ({f['unit']})" if f.get("unit") else ""
    return f"{f['name']}{unit}"


_ROLE = re.compile(r":(?:math|class|func|meth|attr|mod|data|obj):`([^`]*)`")


def plain_text(doc: str) -> str:
    """A docstring fragment as plain text: helper texts show characters, not
    reStructuredText, so ``x``, *x*, :math:`x` lose their markup."""
    text = _ROLE.sub(r"\1", doc)
    text = re.sub(r"``([^`]*)``", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    # emphasis only between non-word characters: 2**F and R*C are formulas
    text = re.sub(r"(?<![\w*])\*\*?([^*\s][^*]*?)\*\*?(?![\w*])", r"\1", text)
    return " ".join(text.split())


def _helper(f: dict) -> str:
    parts = []
    b = _fmt_bounds(f.get("bounds"))
    if b:
        parts.append(b)
    if f.get("doc"):
        parts.append(plain_text(f["doc"]))
    return " · ".join(parts)


class FieldEditor(pn.viewable.Viewer):
    """A column of widgets for ``fields``.  ``on_change(name, value)`` is
    called with values accepted by ``validate(name, value)``; refused values
    show the error under the widget and the widget keeps the refused text until
    corrected (the model keeps the last valid value)."""

    def __init__(self, fields: list[dict], validate: Callable[[str, Any], Any],
                 on_change: Callable[[str, Any], None], **params):
        super().__init__(**params)
        self._validate = validate
        self._on_change = on_change
        self.widgets: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        self._kinds = {f["name"]: f["kind"] for f in fields}
        self._allow_none = {f["name"]: f.get("allow_none", False) for f in fields}
        items = []
        for f in fields:
            w = self._make_widget(f)
            if w is None:
                continue
            self.widgets[f["name"]] = w
            # apply an edit as soon as it arrives: Panel's default 50 ms
            # debounce of browser changes adds straight to the latency of a
            # parameter change on a running network (inputs send on Enter/blur)
            w._debounce = 0
            # and without marking the session busy (the page shell re-syncs on
            # each busy toggle, ~20 ms spent before the edit itself is handled)
            w._busy__ignore = ["value"]
            w._nc_helper = _helper(f)
            w.param.watch(lambda ev, name=f["name"]: self._changed(name, ev), "value")
            items.append(w)
        self._col = pn.Column(*items, sizing_mode="stretch_width", margin=0)

    def _make_widget(self, f: dict):
        common = dict(label=_label(f), sizing_mode="stretch_width", helper_text=_helper(f),
                      css_classes=["nc-field", f"nc-field-{f['name']}"])
        kind, v = f["kind"], f["value"]
        if kind == "float":
            # no start/end: out-of-bounds input reaches the engine's validation
            # and is refused with its message rather than silently clamped
            return pmui.FloatInput(value=float(v) if v is not None else None, **common)
        if kind == "int":
            return pmui.IntInput(value=int(v) if v is not None else None, **common)
        if kind == "bool":
            return pmui.Checkbox(value=bool(v), label=_label(f), description=_helper(f) or None,
                                 css_classes=["nc-field", f"nc-field-{f['name']}"])
        if kind == "select":
            return pmui.Select(value=v, options=f["options"], **common)
        if kind == "str":
            return pmui.TextInput(value="" if v is None else str(v), **common)
        if kind == "json":  # a structured value (weight spec, list): edited as JSON text
            return pmui.TextInput(value="" if v is None else json.dumps(v), **common)
        return None

    def _changed(self, name: str, event) -> None:
        w = self.widgets[name]
        value = event.new
        try:
            if self._kinds.get(name) == "json":
                value = parse_json_field(name, value)
            if value is None and not self._allow_none.get(name):
                raise ValueError(f"{name}: a value is required")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
            value = self._validate(name, value)
        except (ValueError, TypeError) as exc:
            self.errors[name] = str(exc)
            if hasattr(w, "error_state"):
                w.error_state = True
                w.helper_text = f"Refused: {exc}"
            return
        if self.errors.pop(name, None) is not None and hasattr(w, "error_state"):
            w.error_state = False
            w.helper_text = w._nc_helper
        self._on_change(name, value)
        self._recheck(name)

    def _recheck(self, changed: str) -> None:
        """Judge the refused fields again once another one changed: a value
        refused because of ``changed`` (a width below its fraction) may now be
        fine, and the user should not have to type it a second time."""
        for other in [n for n in self.errors if n != changed]:
            w = self.widgets[other]
            try:
                value = w.value
                if self._kinds.get(other) == "json":
                    value = parse_json_field(other, value)
                value = self._validate(other, value)
            except (ValueError, TypeError) as exc:
                self.errors[other] = str(exc)
                w.helper_text = f"Refused: {exc}"
                continue
            del self.errors[other]
            if hasattr(w, "error_state"):
                w.error_state = False
                w.helper_text = w._nc_helper
            self._on_change(other, value)

    def __panel__(self):
        return self._col

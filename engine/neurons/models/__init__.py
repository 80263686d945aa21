"""The reference's "individual file import": one module per model file.

``from engine.neurons.models.hodgkin_huxley import HodgkinHuxleyNeuron``
works for every file of :mod:`engine.models` (``lapicque``,
``stochastic_lif``, ``sc_izhikevich``, ``hodgkin_huxley``, ...) and under each
model's identifier aliases (e.g. ``izhikevich`` for ``sc_izhikevich``,
``dendritic_xor`` for ``dendritic``).  Each such module holds the scalar
neuron classes of the models defined in that file under their registry names
(the same objects as ``engine.neurons.<Name>``), the declarations and the
file's other public names.

The modules are built here from the registry rather than written out, so a
new model file gets its module with no other edit.

May import: ``engine.models``, ``engine.neurons``.
"""

from __future__ import annotations

import importlib
import keyword
import sys
import types

from engine import models as _models
from engine.neurons import scalar_class

__all__ = ["module_names"]


def _build() -> dict[str, types.ModuleType]:
    by_file: dict[str, types.ModuleType] = {}
    for key, decl in sorted(_models.registry.items()):
        source = importlib.import_module(decl.__module__)
        short = decl.__module__.rsplit(".", 1)[-1]
        mod = by_file.get(short)
        if mod is None:
            mod = types.ModuleType(f"{__name__}.{short}", f"Alias of {decl.__module__} (reference file import).")
            public = getattr(source, "__all__", None) or [n for n in vars(source) if not n.startswith("_")]
            for name in public:
                if hasattr(source, name):
                    setattr(mod, name, getattr(source, name))
            mod.__all__ = []
            by_file[short] = mod
        cls = scalar_class(decl)
        setattr(mod, key, cls)
        if cls.__name__ != key:
            setattr(mod, cls.__name__, cls)
        mod.__all__.append(key)
    modules = dict(by_file)
    for key, decl in _models.registry.items():
        short = decl.__module__.rsplit(".", 1)[-1]
        for alias in decl.aliases:
            alias = alias.lower()
            if alias.isidentifier() and not keyword.iskeyword(alias) and alias not in modules:
                modules[alias] = by_file[short]
    return modules


_MODULES = _build()
for _name, _mod in _MODULES.items():
    sys.modules.setdefault(f"{__name__}.{_name}", _mod)
    setattr(sys.modules[__name__], _name, _mod)


def module_names() -> list[str]:
    """Every importable ``engine.neurons.models.<name>``."""
    return sorted(_MODULES)

"""Mutation testing of NeuroCore's core modules, one module at a time.

    python tools/mutation.py                      # every module, default budget
    python tools/mutation.py fixedpoint network   # named modules only
    python tools/mutation.py --budget 600 --list  # budget per module; list modules

Each module runs in its own scratch copy of the project under
``mutants/<module>/`` with a generated ``[tool.mutmut]`` section (mutmut 3 reads
its configuration only from ``pyproject.toml`` in the working directory, so a
per-module file and test subset needs a per-module directory).  The project's
own ``[tool.mutmut]`` section supplies the shared settings.  mutmut keeps each
mutant's verdict in that directory, so a second run with the same sources
continues where the budget stopped the first; ``--fresh`` starts over.

A mutant counts as killed when a test fails (or it times out); "no tests" means
no test in the module's subset executes the mutated function.  The score is
killed / (killed + survived + no tests + suspicious); mutants not reached
within the budget are reported separately and left out of the score.  Mutants
that cannot change behaviour are listed in ``EQUIVALENT`` with the reason and
also left out of the score.
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants"


@dataclass(frozen=True)
class Module:
    sources: tuple[str, ...]  # files (or folder globs) mutated
    tests: tuple[str, ...]  # the pytest subset that should kill them
    copy: tuple[str, ...] = ()  # extra project paths the tests read
    only: tuple[str, ...] = ()  # mutmut name globs: just these functions of the sources
    deselect: tuple[str, ...] = ()  # test ids left out (ones that cannot run under mutmut's trampolines)
    keyword: str = ""  # a pytest -k expression, for the same reason


E = "tests/engine/"
MODULES: dict[str, Module] = {
    "fixedpoint": Module(
        ("engine/fixedpoint.py",),
        (E + "test_pinned_fixedpoint.py", E + "test_fixed_point_lif.py", E + "test_fixed_point_options.py"),
    ),
    "fixed_point_backend": Module(
        ("engine/backends/fixed_point.py",),
        (E + "test_pinned_fixedpoint.py", E + "test_fixed_point_backend.py", E + "test_fixed_point_options.py",
         E + "test_pinned_fixed_point_quantisation.py"),
    ),
    # the quantisation half of the backend (codes of parameters, weights, inputs)
    "fixed_point_quantisation": Module(
        ("engine/backends/fixed_point.py",),
        (E + "test_pinned_fixedpoint.py", E + "test_fixed_point_backend.py",
         E + "test_pinned_fixed_point_quantisation.py"),
        only=tuple("engine.backends.fixed_point." + f for f in (
            "x_resolve_qformat__*", "x__quantise_param__*", "x_map_population__*", "x_quantise_weights__*",
            "x__float_weight_codes__*", "x__warn_user__*", "xǁFixedPointSimulatorǁ_warn_new__*",
            "xǁFixedPointSimulatorǁinput_codes__*")),
    ),
    "backends": Module(
        ("engine/backends/base.py", "engine/backends/numpy_backend.py", "engine/backends/__init__.py"),
        (E + "test_backends_numpy.py", E + "test_backend_contract.py", E + "test_pinned_delays.py",
         E + "test_pinned_kernels.py", E + "test_pinned_backends.py"),
    ),
    # the torch backend (CPU); its tests compare it with the NumPy backend
    "torch_backend": Module(
        ("engine/backends/torch_backend.py",),
        (E + "test_backend_torch.py", E + "test_pinned_torch_backend.py"),
    ),
    # the compiled (numba) backend: its driver and the generator of the whole-chunk
    # loop.  A mutant that changes the generated source costs a numba compile of each
    # test's network (~36 s for the subset with an empty cache, 11 s with a warm one);
    # the kernels go into the module's scratch copy (mutmut() sets NEUROCORE_CACHE_DIR)
    "compiled": Module(
        ("engine/backends/compiled.py", "engine/backends/compiled_codegen.py"),
        (E + "test_backend_compiled.py", E + "test_fixed_point_compiled.py", E + "test_pinned_compiled.py"),
        copy=("assets",),  # the CUBA network the tests load
    ),
    "network": Module(
        ("engine/network/*",),
        (E + "test_network.py", E + "test_network_projection.py", E + "test_network_declared.py",
         E + "test_io.py", E + "test_pinned_delays.py", E + "test_pinned_network_declare.py",
         E + "test_pinned_network_plasticity.py", E + "test_pinned_network_objects.py",
         E + "test_pinned_network_io.py", E + "test_pinned_network_io2.py"),
        copy=("bench", "assets"),  # test_network loads bench/cuba.py
    ),
    "models": Module(
        ("engine/models/*",),
        (E + "test_models_contract.py", E + "test_models_if.py", E + "test_models_conductance.py",
         E + "test_models_maps_rate_hw.py", E + "test_models_oscillators.py", E + "test_neurons_reference.py",
         E + "test_reference_compat.py", E + "test_fixed_point_lif.py",
         E + "test_pinned_kernels.py", E + "test_pinned_conductance.py", E + "test_pinned_models.py",
         E + "test_izhikevich2004.py"),
        # the torch and compiled (numba) backends read the models' kernel source,
        # which mutmut's trampolines replace
        keyword="not torch and not compiled",
    ),
    "training": Module(
        ("engine/training/cells.py", "engine/training/surrogate.py"),
        (E + "test_cells.py", E + "test_surrogate.py", E + "test_pinned_cells.py", E + "test_pinned_training.py"),
        # torch.compile cannot trace mutmut's trampoline (it reads a ContextVar)
        deselect=(E + "test_surrogate.py::test_custom_op_under_torch_compile_fullgraph",),
    ),
    "conversion": Module(("engine/conversion/*",), (E + "test_conversion.py", E + "test_pinned_conversion.py",
                                                    E + "test_pinned_conversion2.py")),
    "hardware": Module(
        ("engine/hardware/export.py", "engine/hardware/report.py"),
        (E + "test_pinned_hardware.py", E + "test_fixed_point_backend.py", "tests/hdl/test_cosim.py"),
        copy=("hdl",),
    ),
    "viewmodel": Module(
        ("neurocore_gui/graph.py", "neurocore_gui/store.py"),
        ("tests/gui/test_viewmodel.py", "tests/gui/test_store.py", "tests/gui/test_pinned_documents.py",
         "tests/gui/test_pinned_viewmodel.py", "tests/gui/test_pinned_viewmodel2.py"),
        copy=("assets",),
        # times out waiting for the fixed-point restart under mutmut (and once without it at load ~30):
        # a run-view timing test, not one of graph.py / store.py
        deselect=("tests/gui/test_store.py::test_q_format_change_while_running_applies_and_says_how",),
    ),
}

# Mutants that cannot change observable behaviour, by mutmut name, with why.
# (mutmut numbers the mutants of a function in a fixed order, so a name stays
# valid until that function's text changes; a stale entry only goes unused.)
_FP = "engine.fixedpoint."
_FPB = "engine.backends.fixed_point."
EQUIVALENT: dict[str, str] = {
    _FP + "xǁQFormatǁquantize__mutmut_35":
        "codes.astype(None) hands wrap() a float array of whole numbers; wrap converts it to int64 itself",
    _FP + "xǁQFormatǁto_float__mutmut_3":
        "dtype=None: true division of integer codes by the scale yields float64 anyway",
    _FP + "xǁQFormatǁto_float__mutmut_5": "as to_float__mutmut_3 (dtype argument dropped)",
    _FP + "x_wrap_inplace__mutmut_4":
        "bits <= word: for bits == word the shift is 0, which leaves the array as it is",
    _FP + "x_shift_product__mutmut_1":
        "default rounding 'XXfloorXX': round_bias treats every value but 'nearest' as floor "
        "(callers validate the option with check_options first)",
    _FP + "x_shift_product__mutmut_2": "as shift_product__mutmut_1 ('FLOOR')",
    _FP + "x_round_bias__mutmut_1": "default 'XXfloorXX': anything but 'nearest' means floor (as above)",
    _FP + "x_round_bias__mutmut_2": "default 'FLOOR': as round_bias__mutmut_1",
    _FP + "x_wrap__mutmut_21":
        "bits > 64 instead of >= 64: at bits = 64 the general formula is the identity too "
        "(NumPy's int64 shift by 64 gives 0, so the mask is all ones and +half/-half cancel)",
    _FP + "x_wrap__mutmut_22": "bits >= 65: as wrap__mutmut_21",
    _FP + "x_wrap__mutmut_40": "array form of wrap__mutmut_10 ((x - half) & mask: differs by 2**bits)",
    _FP + "x_check_options__mutmut_3":
        "default saturate=True: the default is only validated, and True is as valid as False",
    _FP + "x_smallest_qformat__mutmut_17":
        "frac > max_width: at frac == max_width the integer bits (>= 1) make the width too large, "
        "so None comes back either way (the early return only keeps 2.0**frac finite)",
    _FP + "x_smallest_qformat__mutmut_42":
        "max(width, 2): a non-zero value rounds to at least one LSB, which needs a sign bit and one "
        "more, so width >= 2 already",
    _FP + "x_wrap__mutmut_10":
        "(x - half) instead of (x + half) before the mask: the two differ by 2*half = 2**bits, "
        "which the mask removes",
    # the fixed_point backend's quantisation
    # (renumbered after the warnings moved to _warn_user and the weight codes to _float_weight_codes)
    _FPB + "x_map_population__mutmut_7":
        "the fallback for a missing StochasticLIF module ('' instead of None): the module always exists",
    _FPB + "x_map_population__mutmut_68":
        "quantising a 0.0 voltage instead of writing 0: the code is 0 and no note is made either way",
    _FPB + "x_quantise_weights__mutmut_6": "dtype=None: projection data are float64 already",
    _FPB + "x_quantise_weights__mutmut_8": "as quantise_weights__mutmut_6",
    _FPB + "x__float_weight_codes__mutmut_2": "reshape(None) of the 1-D CSR data is the same 1-D array",
    _FPB + "x__float_weight_codes__mutmut_4": "dtype=None: quantize returns int64 codes already",
    _FPB + "x__float_weight_codes__mutmut_6": "as _float_weight_codes__mutmut_4",
    _FPB + "x__warn_user__mutmut_15":
        "default module name 'XXXX' instead of '' for a frame without __name__: neither is an internal "
        "module, so that frame is the caller either way",
    _FPB + "xǁFixedPointSimulatorǁinput_codes__mutmut_6":
        "dtype=None: the summed weight codes are float64 buffers already, and the result is cast to int64",
    _FPB + "xǁFixedPointSimulatorǁinput_codes__mutmut_8": "as input_codes__mutmut_6",
    _FPB + "xǁFixedPointSimulatorǁinput_codes__mutmut_31":
        "out=None: the clipped values land in a new array instead of the temporary s; same values",
    _FPB + "xǁFixedPointSimulatorǁinput_codes__mutmut_34": "as input_codes__mutmut_31",
    _FPB + "xǁFixedPointSimulatorǁinput_codes__mutmut_37": "as input_codes__mutmut_31 (the inner out=)",
    _FPB + "xǁFixedPointSimulatorǁinput_codes__mutmut_40": "as input_codes__mutmut_31 (inner out= dropped)",
    _FPB + "xǁFixedPointSimulatorǁinput_codes__mutmut_60":
        "inner np.maximum into a new array: the outer np.minimum still writes the clipped sum into total",
    _FPB + "xǁFixedPointSimulatorǁinput_codes__mutmut_63": "as input_codes__mutmut_60",
    _FPB + "x_map_population__mutmut_163":
        "the positional noise_amplitude 0 dropped: PopulationMapping's default is 0",
}

# the whole fixed_point backend (round 5)
_FPS = _FPB + "xǁFixedPointSimulatorǁ"
_FPC = _FPS + "_advance_compiled__mutmut_"
_UNREAD = "a placeholder the compiled loop never reads (no {}): its size or dtype cannot matter"
_BLOCK = ("the compiled block length only: every block continues the same state, so the codes, spikes and "
          "traces are the same for any block of at least one step (only the number of calls and the buffer "
          "sizes change; a two-block chunk is tested)")
_EXACT_FLOAT = ("{} as float64 instead of int64: numba compiles a float version of the loop; the values are "
                "whole numbers far below 2**53, so every sum and comparison is exact and the results the same")
EQUIVALENT.update({
    _FPB + "x_network_options__mutmut_27": "bool(options.get('saturate', None)): bool(None) is False, the default",
    _FPB + "x_network_options__mutmut_29": "as network_options__mutmut_27 (get without a default: None)",
    _FPB + "x_network_options__mutmut_45":
        "check_options without saturate: out['saturate'] is bool(...), always a valid value",
    _FPB + "x_network_qformat__mutmut_24": "QFormat(16, ) : QFormat's fraction defaults to 8",
    _FPS + "__init____mutmut_17":
        "_kernels = None: _setup_populations (run by the base __init__ next) sets it before any read",
    _FPS + "__init____mutmut_18": "mappings = None: as __init____mutmut_17",
    _FPS + "_setup_populations__mutmut_3": "np.zeros(dtype=None) is float64, the dtype written out",
    _FPS + "_setup_populations__mutmut_5": "as _setup_populations__mutmut_3 (dtype dropped)",
    _FPS + "_setup_populations__mutmut_6":
        "_rt_codes = None: _prepare (run by the base __init__ after it) sets it to a dict before any read",
    _FPS + "_setup_populations__mutmut_21":
        "load_state=None at setup: every mapping is still None there, so each population gets a new kernel "
        "and loads its state whatever load_state says",
    _FPS + "_setup_populations__mutmut_22": "load_state=False: as _setup_populations__mutmut_21",
    _FPS + "_remap__mutmut_8": "map_population(warn=None): falsy like False, and warn is only tested for truth",
    _FPS + "_load_state__mutmut_20":
        "astype(None): float64 whole numbers (np.rint) written into the int64 counter give the same codes",
    _FPS + "_prepare__mutmut_5": "astype(None) is astype(float64), the dtype written out",
    _FPS + "_prepare__mutmut_8": "quantise_weights(warn=None): as _remap__mutmut_8",
    _FPS + "_prepare__mutmut_72": "np.zeros(dtype=None) is float64, the dtype written out",
    _FPS + "_prepare__mutmut_74": "as _prepare__mutmut_72 (dtype dropped)",
    _FPS + "_read_state__mutmut_13": "astype(None) is astype(float64), the dtype written out",
    _FPS + "_deliver__mutmut_3":
        "vals None for vals: every fixed-point population spikes, so the base loop always passes None",
    _FPS + "_step_populations__mutmut_41":
        "rng.integers without dtype: NumPy's default for integer bounds is int64, the dtype written out",
    _FPS + "_syn_update__mutmut_39":
        "inner np.maximum into a new array: the outer np.minimum still writes the clipped value into nxt",
    _FPS + "_syn_update__mutmut_42": "as _syn_update__mutmut_39 (out= dropped)",
    _FPS + "reset__mutmut_5":
        "arrivals.fill(None) at reset: _prepare, which starts every advance, gives each register group a new "
        "zeroed arrivals buffer before any step reads it",
    _FPS + "reset__mutmut_8": "arrivals.fill(1.0): as reset__mutmut_5",
    _FPS + "inherit__mutmut_2":
        "which rt.out are zeroed after the base inherit: the next advance's _prepare points every tau_syn "
        "projection's rt.out at a new zeroed arrivals buffer before any step reads it",
    _FPS + "inherit__mutmut_3": "rt.out.fill(None): as inherit__mutmut_2",
    _FPS + "inherit__mutmut_4": "rt.out.fill(1.0): as inherit__mutmut_2",
    **{_FPC + str(k): _BLOCK for k in (294, 303, 305, 306, 307, 312)},
    _FPC + "123": _UNREAD.format("register group"),
    **{_FPC + str(k): _UNREAD.format("projection") for k in (173, 175, 176, 186, 194, 196, 197)},
    _FPC + "504": _UNREAD.format("register group"),
    _FPC + "498": "i64([]) for an empty group list: an empty int64 array the loop never reads (no group)",
    _FPC + "335": "STIM0 with one row: the loop reads STIM only when there is a stimulus, and then gets its own",
    _FPC + "384": "a 2-element spike counter: the loop uses element 0 only",
    _FPC + "210":
        "the delay-line offsets start at 1: every write, read and write-back uses the same offsets, and the "
        "buffers are sized from them, so one unused slot is all that changes",
    _FPC + "227": "a delay-line buffer of at least 2: the size is at least 1 neuron x 1 slot already, larger only "
                  "adds unused room",
    _FPC + "236": "as _advance_compiled__mutmut_227 (the count buffer)",
    _FPC + "47": "np.array of Python bools without dtype is bool already",
    _FPC + "49": "as _advance_compiled__mutmut_47",
    _FPC + "61": "as _advance_compiled__mutmut_47 (saturate flags)",
    _FPC + "63": "as _advance_compiled__mutmut_47 (saturate flags)",
    _FPC + "69": _EXACT_FLOAT.format("refractory counters"),
    _FPC + "74": _EXACT_FLOAT.format("the saturation counts"),
    _FPC + "76": _EXACT_FLOAT.format("the saturation counts") + " (dtype dropped)",
    _FPC + "191": _EXACT_FLOAT.format("weight codes"),
    _FPC + "255": "asarray(dtype=None) of record_indices, which the StateMonitor stores as int64 already",
    _FPC + "257": "as _advance_compiled__mutmut_255",
    _FPC + "269": "variable code 2 for 1: the loop records v for code 0 and the counter for any other code",
    _FPC + "588": "astype(None) is astype(float64), the dtype written out",
    _FPC + "551":
        "one spike step for an empty chunk (n_steps = 0): no block ran, so the neuron ids are empty and every "
        "population's empty selection picks nothing (NumPy indexes with an empty boolean array as with no index)",
})

# the training cells and surrogates
_TC, _TS = "engine.training.cells.", "engine.training.surrogate."
_FALSE_FLAG = "a literal False flag passed as None: both are falsy, and the callee only tests its truth"
EQUIVALENT.update({
    _TC + "xǁALIFCellǁ__init____mutmut_27": _FALSE_FLAG + " (learn rho)",
    _TC + "xǁAdExCellǁ__init____mutmut_48": _FALSE_FLAG + " (learn rho)",
    _TC + "xǁAlphaCellǁ__init____mutmut_15": _FALSE_FLAG + " (learn alpha_exc)",
    _TC + "xǁAlphaCellǁ__init____mutmut_24": _FALSE_FLAG + " (learn alpha_inh)",
    _TC + "xǁRecurrentLIFCellǁ__init____mutmut_29": "nn.Linear(bias=None): Linear only tests `if bias`, as for False",
    _TC + "xǁ_SpikingCellǁ_add_decay__mutmut_44": _FALSE_FLAG + " (_in_range lo_open)",
    _TC + "xǁ_SpikingCellǁ_add_decay__mutmut_45": _FALSE_FLAG + " (_in_range hi_open)",
    _TC + "xǁ_SpikingCellǁ_add_real__mutmut_16":
        "upper bound inf closed instead of open: _as_value already refused inf, so no value differs",
    _TC + "xǁ_SpikingCellǁ_add_real__mutmut_24": "as _add_real__mutmut_16 (hi_open False)",
    _TC + "xǁ_SpikingCellǁ_add_threshold__mutmut_16": "as _add_real__mutmut_16 (learnable threshold)",
    _TC + "xǁ_SpikingCellǁ_add_threshold__mutmut_24": "as _add_real__mutmut_16 (learnable threshold)",
    _TS + "x__build_custom_op__mutmut_6":
        "schema=None: torch infers it from forward's annotations, the same '(Tensor x, float p) -> Tensor'",
    _TS + "x__build_custom_op__mutmut_10": "as _build_custom_op__mutmut_6 (schema argument dropped)",
    _TS + "x__custom__mutmut_10": "p = 1.0 instead of 0.0 for straight_through: its forward and derivative ignore p",
    _TS + "x__legacy__mutmut_10": "as _custom__mutmut_10",
    _TS + "x_surrogate_derivative__mutmut_12": "as _custom__mutmut_10",
})

# engine/network and engine/backends
_NW, _BK = "engine.network.", "engine.backends."
_INT64 = "dtype dropped: NumPy's default integer (arange, asarray of Python ints) is int64 on 64-bit Linux/NumPy 2"
_F64 = "dtype dropped: np.zeros/np.array of Python floats is float64 already"
_ACCEPTED = ("every NeuronModel class defines accepted_parameters (Population() calls it unconditionally), "
             "so the parameter_names() fallback is never taken")
EQUIVALENT.update({
    _NW + "io.x__literal__mutmut_12": "x >= 0 instead of x > 0: _literal only sees non-finite x (+-inf, nan)",
    _NW + "io.x__literal__mutmut_13": "x > 1 instead of x > 0: as _literal__mutmut_12 (+inf > 1, -inf is not)",
    _NW + "io.x__float_array__mutmut_12":
        "set < {int, float} instead of <=: for exactly {int, float} the per-item loop runs and finds nothing",
    _NW + "io.x__int_array__mutmut_12": "as _float_array__mutmut_12 ({int}: the loop runs and accepts)",
    _NW + "io.x__named__mutmut_2":
        "DocumentError(None, ...): a None path is falsy like '', same text; the path is overwritten next line",
    _NW + "io.x__checked__mutmut_8": "as _named__mutmut_2",
    _NW + "io.x__accepted__mutmut_6": "getattr without its None default: " + _ACCEPTED,
    _NW + "io.x__accepted__mutmut_10": "`callable(accepted) or True`: " + _ACCEPTED,
    _NW + "io.x_dump_document__mutmut_32": "encode('UTF-8'): codec names are case-insensitive",
    _NW + "io.x_dump_document__mutmut_23":
        "allow_nan=None: validate_document (its _scan) refuses every non-finite number before json.dumps, "
        "and meta is sanitised, so json never meets one",
    _NW + "io.x_dump_document__mutmut_26": "as dump_document__mutmut_23 (allow_nan dropped)",
    _NW + "io.x_dump_document__mutmut_28": "as dump_document__mutmut_23 (allow_nan=True)",
    _NW + "population.xǁPopulationǁset_param__mutmut_6": "getattr without its None default: " + _ACCEPTED,
    _NW + "population.xǁPopulationǁset_param__mutmut_11": "`callable(accepted) or True`: " + _ACCEPTED,
    _NW + "population.xǁPopulationǁget_states__mutmut_4": "np.array(v) copies by default (copy=True)",
    _NW + "plasticity.x_make_plasticity__mutmut_8": "the join separator of a one-rule list ('stdp') is never used",
    _NW + "plasticity.xǁSTDPRuntimeǁ__init____mutmut_51": _INT64,
    _NW + "plasticity.xǁSTDPRuntimeǁ__init____mutmut_53": _INT64,
    _NW + "plasticity.xǁSTDPRuntimeǁ__init____mutmut_56":
        "argsort kind: the synapses of one column are used as a set of distinct positions (w[pos] += ...), "
        "so their order within the column does not matter",
    _NW + "plasticity.xǁSTDPRuntimeǁ__init____mutmut_57": "as STDPRuntime.__init____mutmut_56",
    _NW + "plasticity.xǁSTDPRuntimeǁ__init____mutmut_59": "as STDPRuntime.__init____mutmut_56",
    _NW + "plasticity.xǁSTDPRuntimeǁ__init____mutmut_61": "kind='STABLE': NumPy accepts the name in any case",
    _NW + "projection.x__row_ranges__mutmut_21": _INT64,
    _NW + "projection.x__row_ranges__mutmut_23": _INT64,
    _NW + "projection.xǁProjectionǁset_csr__mutmut_75":
        "nnz >= 1 instead of > 1: with one synapse the same-row comparison runs over empty arrays",
    _NW + "projection.xǁProjectionǁfrom_csr__mutmut_14":
        "placeholder topology dropped: the declared default is 'random'; the metadata replaces it",
    _NW + "projection.xǁProjectionǁfrom_csr__mutmut_16":
        "placeholder weight 1.0: with probability 0 no synapse is sampled, and the metadata replaces the weight",
    _NW + "monitors.x__check_record__mutmut_15":
        "'XXiuXX' still contains 'i' and 'u', and no NumPy dtype kind is 'X'",
    _NW + "monitors.x__check_record__mutmut_38": _INT64,
    _NW + "monitors.x__check_record__mutmut_40": _INT64,
    _NW + "monitors.xǁStateMonitorǁrecord__mutmut_9": _INT64,
    _NW + "monitors.xǁStateMonitorǁrecord__mutmut_12": _INT64,
    _NW + "monitors.xǁStateMonitorǁ__getattr____mutmut_3":
        "startswith('XX_XX'): a '_name' that is not a variable still raises (no variable starts with '_')",
    _NW + "monitors.xǁStateMonitorǁ__getattr____mutmut_6":
        "the .get default differs only while 'variables' is unset, and no public attribute is looked up "
        "before _init_declared sets it",
    _NW + "monitors.xǁStateMonitorǁ__getattr____mutmut_8": "as StateMonitor.__getattr____mutmut_6",
    _NW + "network.xǁNetworkǁ__getstate____mutmut_4": "pop('_lock') without default: _lock always exists",
    _NW + "stimuli.xǁPoissonInputǁ_changed__mutmut_1": "Stimulus._changed ignores its name argument",
    _NW + "_warn.x_warn_at_caller__mutmut_15":
        "default module name 'XXXX' instead of '' for a frame without __name__: neither is an internal "
        "package, so that frame is the caller either way",
    _NW + "declare.x__check_items__mutmut_30":
        "kinds < {float, float64} instead of <=: a row with both types goes through the per-item loop, "
        "which accepts them",
    _BK + "base.xǁSimulatorǁ_setup_populations__mutmut_3": _F64,
    _BK + "base.xǁSimulatorǁ_setup_populations__mutmut_5": _F64,
    _BK + "base.x_deliver_rows__mutmut_3":
        "< instead of <= _LOOP_ROWS: exactly 4 rows take the gathered path, which gives the same sums",
    _BK + "base.x_deliver_rows__mutmut_7": "b >= a: an empty row's slice adds nothing",
    _BK + "base.x_row_positions__mutmut_25": _INT64,
    _BK + "base.x_row_positions__mutmut_27": _INT64,
    _BK + "base.xǁSimulatorǁinherit__mutmut_42":
        "the shape check skipped: a synaptic slice always has n_target entries, and a buffer written into an "
        "instantaneous projection's current array is zeroed at the start of the next step",
    _BK + "numpy_backend.xǁNumpySimulatorǁ_deliver__mutmut_3": "as base.deliver_rows__mutmut_3",
    _BK + "numpy_backend.xǁNumpySimulatorǁ_deliver__mutmut_9": "as base.deliver_rows__mutmut_7",
    _BK + "numpy_backend.xǁNumpySimulatorǁ_deliver__mutmut_20":
        "indptr_list=None: deliver_rows reads it only on its loop path, which this call never takes "
        "(the loop case returned above)",
    _BK + "numpy_backend.xǁNumpySimulatorǁ_step_populations__mutmut_19":
        "always np.not_equal(y, 0): for a 1-D bool y, y.nonzero() and (y != 0).nonzero() are the same indices",
    _BK + "numpy_backend.xǁNumpySimulatorǁ_step_populations__mutmut_20":
        "always y.nonzero(): for a 1-D y it equals (y != 0).nonzero()",
    _BK + "numpy_backend.xǁNumpySimulatorǁ_step_populations__mutmut_5": "as base._step_populations__mutmut_9",
    _BK + "base.xǁSimulatorǁ_step_populations__mutmut_9":
        "integer current cast to float64 (astype(None)) after rint: the integer kernels (TrueNorth, Loihi, "
        "SpiNNaker, FixedPointLIF) give the same state and output for whole-valued floats (checked)",
    _NW + "population.xǁPopulationǁstep_all__mutmut_35": "as base._step_populations__mutmut_9",
    _NW + "population.xǁPopulationǁstep_all__mutmut_17":
        "currents without dtype=float64: int or bool currents are promoted to the same float64 values by the "
        "kernels' float arithmetic (non-finite and shape checks behave the same)",
    _NW + "population.xǁPopulationǁstep_all__mutmut_19": "as step_all__mutmut_17",
    _NW + "projection.xǁProjectionǁpropagate__mutmut_3":
        "source_spikes without dtype=float64: the row scales are multiplied into float64 weights, same values",
    _NW + "projection.xǁProjectionǁpropagate__mutmut_5": "as propagate__mutmut_3",
    _NW + "projection.xǁProjectionǁpropagate__mutmut_35": "out = ... instead of out += ...: out is all zeros there",
    _NW + "monitors.xǁSpikeMonitorǁfiring_rates__mutmut_6":
        "allow_float=None: integer() only tests `not allow_float`, as for False",
    _NW + "monitors.xǁSpikeMonitorǁisi__mutmut_5": "as firing_rates__mutmut_6",
    _NW + "plasticity.x_make_plasticity__mutmut_20": "as make_plasticity__mutmut_8 (one rule, no separator)",
    _NW + "plasticity.xǁSTDPRuntimeǁ__init____mutmut_19":
        "getattr without default: Projection.__init__ always sets plasticity_state",
    _NW + "stimuli.x__dt_field__mutmut_1":
        "allow_None=None: param sets allow_None itself when the default is None (checked)",
    _NW + "stimuli.x__dt_field__mutmut_7": "as _dt_field__mutmut_1 (allow_None dropped)",
    _NW + "stimuli.x__dt_field__mutmut_12": "as _dt_field__mutmut_1 (allow_None=False)",
    _NW + "monitors.x__check_record__mutmut_29": "as firing_rates__mutmut_6 (allow_float=None)",
    _NW + "io.x__estimate__mutmut_144": "as _named__mutmut_2 (the path is set on the next line)",
    _NW + "io.x__estimate__mutmut_151":
        "split() instead of split(' '): the part's name has single spaces only, so the first word is the same",
    _NW + "stimuli.xǁPoissonInputǁapply__mutmut_4":
        "random() <= p instead of < p: differs only when the generator returns exactly p (chance 2**-53)",
    _NW + "io.x__estimate__mutmut_8":
        "largest starts at cost 1 instead of 0: a population costs >= 40 bytes, and a 0-cost entry (empty "
        "CSR) needs populations, so the largest part is the same (and '' when there is none)",
})

EQUIVALENT["neurocore_gui.store.xǁSessionStoreǁ_validate__mutmut_3"] = (
    "a shallow instead of a deep copy for the trial build: network_from_dict only reads the document "
    "(it builds its own dicts), so the copy is never written")
EQUIVALENT["neurocore_gui.graph.x__is_inhibitory__mutmut_21"] = (
    "w.get('low') without the default 0: a weight dict with none of mean/value/low gives None, "
    "float(None) raises TypeError, and the except returns False, as 0 < 0 does")
EQUIVALENT["neurocore_gui.graph.x__is_inhibitory__mutmut_24"] = (
    "default 1 instead of 0 for a weight dict with none of mean/value/low: 1 < 0 is False, as 0 < 0")
EQUIVALENT["neurocore_gui.graph.x_auto_layout__mutmut_35"] = (
    "state[u] = None for 'done': the DFS only asks whether a node's state is 1 (on the stack) or absent, "
    "and None is neither")
EQUIVALENT["neurocore_gui.graph.x_auto_layout__mutmut_36"] = "state[u] = 3: as auto_layout__mutmut_35"
EQUIVALENT["neurocore_gui.graph.x_projection_data__mutmut_6"] = (
    "copy.copy instead of copy.deepcopy of each declared Projection default: all of them are immutable "
    "(numbers, strings, None)")
# view-model, round 4
_VG = "neurocore_gui.graph.x_"
_EDGE_KIND = ("_edge's kind argument is not read (an edge's kind follows from its source node, "
              "edge_kind), so another value there changes nothing")
EQUIVALENT.update({
    _VG + "network_to_canvas__mutmut_109": _EDGE_KIND,
    _VG + "network_to_canvas__mutmut_119": _EDGE_KIND,
    _VG + "network_to_canvas__mutmut_145": _EDGE_KIND,
    _VG + "network_to_canvas__mutmut_154": _EDGE_KIND,
    _VG + "network_to_canvas__mutmut_155": _EDGE_KIND,
    _VG + "canvas_to_network__mutmut_49":
        "pop('_auto_label', None) for False: the value is only tested for truth (if auto), and both are false",
    _VG + "canvas_to_network__mutmut_66": "_reorder does not read its second argument (it returns entry)",
    _VG + "auto_layout__mutmut_108":
        "max(..., default=1): the default applies only with no nodes, and then no node reads the x_of entries",
    _VG + "auto_layout__mutmut_109":
        "range(max + 2): one x_of entry past the last layer, which no node has, so it is never read",
    _VG + "edge_routes__mutmut_127":
        "<= for < between the two heights of an 'around' pair: 'around' needs |dy| >= NODE_H + ROW_GAP > 0, "
        "so the heights are never equal",
})

# the hardware export and report
_HE, _HR = "engine.hardware.export.", "engine.hardware.report."
EQUIVALENT.update({
    _HE + "x__dense_codes__mutmut_3":
        "a float instead of an int64 dense matrix: it is only range-checked and written through to_hex, "
        "which converts each entry with int()",
    _HE + "x__dense_codes__mutmut_5": "as _dense_codes__mutmut_3",
    _HR + "x__raster__mutmut_4":
        "a float 0/1 raster instead of bool: only compared (!=) and summed, with the same results",
    _HR + "x__raster__mutmut_6": "as _raster__mutmut_4",
    _HR + "x__raster__mutmut_9":
        "steps + start_step instead of - start_step: compare_float_fixed resets the network first, "
        "so both chunks start at step 0",
    _HR + "x_compare_float_fixed__mutmut_3": "float_backend 'NUMPY': backend names are case-insensitive",
})

# engine/backends (round 4)
_BB, _BN = _BK + "base.xǁSimulatorǁ", _BK + "numpy_backend.xǁNumpySimulatorǁ"
_EMPTY_IDX = ("Simulator._empty's index array is always empty: every reader tests .size first "
              "(delivery, rates, STDP) or copies its 0 entries (the compiled kernels' tables), so its dtype never shows")
_RESIZED = ("_reset_history's rings hold only empty entries, and every _prepare (in __init__ and at the start of "
            "each advance, on every backend) recomputes the needed lengths and resizes them first")
_ONE_D = ("kernels return 1-D arrays: for a 1-D y, y.nonzero() and (y != 0).nonzero() give the same indices, "
          "whichever branch the test picks")
_REGROUPED = "overwritten by the _regroup() call just after, before any read"
_BOUNDS = "_bounds is written and never read (no backend or test uses it)"
EQUIVALENT.update({
    _BB + "__init____mutmut_72": _EMPTY_IDX,
    _BB + "__init____mutmut_74": _EMPTY_IDX,
    _BB + "_advance__mutmut_112": _INT64 + " (spike_t is a list of Python ints)",
    _BB + "_advance__mutmut_114": _INT64 + " (spike_t is a list of Python ints)",
    _BB + "_advance__mutmut_116":
        "astype(int64, copy=None) of a fresh concatenate result: only decides whether that private array is "
        "copied once more; same values",
    _BB + "_advance__mutmut_118": "as _advance__mutmut_116 (copy=True, the default)",
    _BB + "_advance__mutmut_120": "as _advance__mutmut_116 (copy=True)",
    _BB + "_population_dt__mutmut_13": "rel_tol=1e-9 dropped: it is math.isclose's default",
    _BB + "_population_dt__mutmut_14": "abs_tol=0.0 dropped: it is math.isclose's default",
    _BB + "_population_dt__mutmut_18":
        "the key of the population's warned-pairs set: nothing else reads it, so any key gives one set per "
        "population and the same once-only warning",
    _BB + "_population_dt__mutmut_22": "as _population_dt__mutmut_18",
    _BB + "_population_dt__mutmut_23": "as _population_dt__mutmut_18",
    _BB + "_reset_history__mutmut_3": _RESIZED,
    _BB + "_reset_history__mutmut_9": _RESIZED,
    _BB + "_reset_history__mutmut_10": _RESIZED,
    _BB + "advance__mutmut_5": "allow_float=None: integer() only tests `not allow_float`, as for False",
    _BK + "base.xǁ_ProjRTǁ__init____mutmut_2":
        "indptr '' for None: refresh() right after compares it with `is not`, true for either, and sets it",
    _BK + "base.xǁ_ProjRTǁ__init____mutmut_3":
        "out '' for None: Simulator.__init__ runs _prepare, which sets every runtime's out and syn_key, before "
        "any read (the NumPy _prepare reads syn_key first only when the signatures changed, which they cannot "
        "between _setup_populations and that first _prepare: parameters are finite, so equal to themselves)",
    _BK + "base.xǁ_ProjRTǁ__init____mutmut_4": "syn_key '' for None: as _ProjRT.__init____mutmut_3",
    _BN + "_prepare__mutmut_3": "saved '' for None: only tested for truth",
    _BN + "_prepare__mutmut_7": "_regroup(None) computes the same signatures itself",
    _BN + "_prepare__mutmut_14":
        "`or` adds only instantaneous projections (syn_key None), whose out is the target's current array, "
        "zeroed at the start of every step before it is read; a synaptic out always has the saved shape "
        "(the target's slice)",
    _BN + "_regroup__mutmut_10": "the text of the 'solo' tag: any string keeps unfused keys apart from the "
                                 "3-tuple signatures",
    _BN + "_regroup__mutmut_11": "as _regroup__mutmut_10",
    _BN + "_regroup__mutmut_27":
        "b.model None: _regroup runs only right before _prepare's loop (or in _setup_populations, before "
        "__init__'s _prepare), which sets b.model = b.pop.model before any step",
    _BN + "_regroup__mutmut_45": _F64,
    _BN + "_regroup__mutmut_47": _F64,
    _BN + "_regroup__mutmut_48": "nz None: np.not_equal(y, 0, out=None) allocates the same bool result",
    _BN + "_regroup__mutmut_50": "nz float64: not_equal writes 1.0/0.0 there, with the same nonzero() indices",
    _BN + "_regroup__mutmut_52": "as _regroup__mutmut_50",
    _BN + "_regroup__mutmut_79": _BOUNDS,
    _BN + "_regroup__mutmut_80": _BOUNDS,
    _BN + "_regroup__mutmut_81": _BOUNDS,
    _BN + "_regroup__mutmut_82": _BOUNDS,
    _BN + "_setup_populations__mutmut_1": _REGROUPED,
    _BN + "_setup_populations__mutmut_2": _REGROUPED,
    _BN + "_setup_populations__mutmut_3": _REGROUPED,
    _BN + "_step_populations__mutmut_21": _ONE_D,
    _BN + "_step_populations__mutmut_22": _ONE_D,
    _BN + "_step_populations__mutmut_23": _ONE_D,
    _BN + "_step_populations__mutmut_24": _ONE_D,
    _BN + "_step_populations__mutmut_27": "out=None: not_equal allocates the same bool result",
    _BN + "_step_populations__mutmut_30": "as _step_populations__mutmut_27",
    _BN + "_step_populations__mutmut_44":
        "searchsorted on an empty idx gives all-zero cuts, so every member gets _empty, as with cuts None",
    _BK + "x_compile__mutmut_2": "default 'NUMPY': resolve_backend lowercases the name",
})

# engine/conversion (round 3b)
_CVS, _CVC = "engine.conversion.converter.xǁConvertedSNNǁ", "engine.conversion.curves."
_TIE = ("v is only compared among the output units whose count is the top count (the tie-break); this "
        "adds the same constant to each of them (theta * that count, or v_init * theta), so argmax is the same")
_NOOP_EXPAND = ("const_input for a layer after the first: its input spikes already have T steps, so "
                "_layer's expand to (T, ...) is a no-op (True) or skipped (None, falsy)")
EQUIVALENT.update({
    _CVS + "classify_over_T__mutmut_24":
        "gen '' instead of None: only the poisson branch uses gen, and it replaces it with a Generator",
    _CVS + "classify_over_T__mutmut_41": "theta = thresholds[+1]: " + _TIE,
    _CVS + "classify_over_T__mutmut_42": "theta = thresholds[-2]: " + _TIE,
    _CVS + "classify_over_T__mutmut_88": "+ theta * c: " + _TIE,
    _CVS + "classify_over_T__mutmut_90": "v_init / theta: " + _TIE,
    _CVS + "classify_over_T__mutmut_91": "v_init[+1]: " + _TIE,
    _CVS + "classify_over_T__mutmut_92": "v_init[-2]: " + _TIE,
    _CVS + "classify_over_T__mutmut_74": _NOOP_EXPAND,
    _CVS + "classify_over_T__mutmut_75": _NOOP_EXPAND,
    _CVS + "calibrate_bias__mutmut_76": _NOOP_EXPAND,
    _CVS + "calibrate_bias__mutmut_77": _NOOP_EXPAND,
    _CVS + "calibrate_bias__mutmut_53":
        "2 draws instead of 1 for constant input: both draws are the same, and (d + d) / (2 n) equals d / n "
        "exactly (scaling by 2 is exact in floating point)",
    _CVC + "x_conversion_curve__mutmut_44":
        "convert() without T: the SNN's default T is never used, classify_over_T is given the Ts",
    _CVC + "x_conversion_curve__mutmut_94": "encoding='poisson' dropped: it is classify_over_T's default",
    "engine.conversion.experiment.x_accuracy_vs_T__mutmut_25":
        "convert() without T: classify is always given T=T, so the SNN's default T is never used",
    "engine.conversion.experiment.x_accuracy_vs_T__mutmut_48":
        "classify() without encoding='poisson': that is classify's default",
    _CVC + "x_train_ann__mutmut_17":
        "stopped.append(None): only whether the list is empty is tested",
    _CVC + "x_train_ann__mutmut_18": "stopped.append(False): as train_ann__mutmut_17",
    _CVC + "x_conversion_curve__mutmut_149":
        "reshape(-2, 8, 8): NumPy (2.x) takes any negative size as the one unknown dimension, as -1",
})

# engine/conversion (round 4)
_CV = "engine.conversion.converter."
_PIECE_NAME = "_Piece.name is never read (no message, repr or caller uses it)"
EQUIVALENT.update({
    _CVS + "_simulate_chunk__mutmut_12":
        "v = '' before the layer loop: a model has at least one layer, whose _layer result replaces it",
    _CVS + "_simulate_chunk__mutmut_23": _NOOP_EXPAND,
    _CVS + "_simulate_chunk__mutmut_24": _NOOP_EXPAND,
    _CVS + "_encode__mutmut_11":
        "const flag True for Poisson input: its spikes already have T steps, so _layer's expand to (T, ...) "
        "is a no-op",
    _CVS + "_simulate__mutmut_8": "gen '' for None: only the poisson branch uses gen, and it sets a Generator",
    _CV + "xǁ_Opǁ__call____mutmut_32":
        "the text of an AssertionError no input reaches: _parse makes only the four kinds handled above it",
    _CVS + "__init____mutmut_1": "default signed=True: convert, the only caller, always passes signed",
    _CV + "x__parse__mutmut_91":
        "last_weighted '' after pooling: '' is never an op, so `ops[-1] is not last_weighted` refuses a "
        "BatchNorm there as with None (ops is not empty: it holds the pooling op)",
    _CV + "x__parse__mutmut_104": "as _parse__mutmut_91 (after Flatten)",
    _CV + "x__parse__mutmut_113": _PIECE_NAME,
    _CV + "x__parse__mutmut_131": _PIECE_NAME,
    _CV + "x__parse__mutmut_135": _PIECE_NAME,
    _CV + "x__parse__mutmut_136": _PIECE_NAME,
    _CVS + "_chunk_size__mutmut_27":
        "max(2, 3 T width): 3 T width >= 3 (T >= 1, width >= 1), so the max never picks its constant",
    "engine.conversion.experiment.x_train__mutmut_27":
        "fork_rng(devices=None) also forks the CUDA generators: the CPU generator, the only one training "
        "draws from, is forked either way",
})

# engine/models (round 3b)
_MF, _MM = "engine.models._form.", "engine.models."
_ZEROS = "np.zeros(n) without dtype: NumPy's default dtype is float64, the same array"
_UNTRACE = ("the text of an _Untraceable, which _record catches to fall back to the direct evaluation: "
            "it never reaches the user")
EQUIVALENT.update({
    _MF + "x__np_refractory_count__mutmut_31": "period / 1.0 for period * 1.0: the same float for an int or float",
    _MF + "xǁ_Symǁ_refuse__mutmut_1": _UNTRACE,
    _MF + "xǁ_Symǁ_refuse__mutmut_2": _UNTRACE,
    _MF + "xǁ_Symǁ_refuse__mutmut_3": _UNTRACE,
    _MM + "loihi_cuba.xǁLoihiCUBAǁconstants__mutmut_9": "dv - DM_OFFSET for dv + DM_OFFSET: DM_OFFSET is 0",
    _MM + "perfect_integrator.xǁPerfectIntegratorǁinitial_state__mutmut_12": _ZEROS,
    _MM + "perfect_integrator.xǁPerfectIntegratorǁinitial_state__mutmut_14": _ZEROS,
    _MM + "adaptive_threshold_if.xǁAdaptiveThresholdIFǁinitial_state__mutmut_20": _ZEROS,
    _MM + "adaptive_threshold_if.xǁAdaptiveThresholdIFǁinitial_state__mutmut_22": _ZEROS,
    _MM + "fixed_point_lif.x_lif_reference_step__mutmut_1":
        "refractory_hold's default 'XXv_restXX': only compared with 'v_reset', so any other text holds at v_rest",
    _MM + "fixed_point_lif.x_lif_reference_step__mutmut_2": "as lif_reference_step__mutmut_1 ('V_REST')",
    _MM + "fixed_point_lif.x_lif_reference_step__mutmut_4":
        "rounding's default 'XXfloorXX': round_bias adds a bias only for 'nearest', so any other text is floor",
    _MM + "fixed_point_lif.x_lif_reference_step__mutmut_5": "as lif_reference_step__mutmut_4 ('FLOOR')",
    _MM + "fixed_point_lif.x_lif_reference_step__mutmut_32":
        "wrap(v_rest - v, 3 w) for 2 w: v and v_rest are w-bit values, so the difference fits w + 1 bits "
        "and neither wrap changes it",
    _MM + "spinnaker_lif.xǁSpiNNakerLIFNeuronǁinitial_state__mutmut_5":
        "np.full without dtype: S1615.quantize returns a Python int, so the array is int64 either way",
    _MM + "spinnaker_lif.xǁSpiNNakerLIFNeuronǁinitial_state__mutmut_8": "as initial_state__mutmut_5",
    _MM + "izhikevich2007.xǁIzhikevich2007ǁinitial_state__mutmut_12": _ZEROS,
    _MM + "izhikevich2007.xǁIzhikevich2007ǁinitial_state__mutmut_14": _ZEROS,
    _MM + "lapicque.xǁLapicqueǁinitial_state__mutmut_12": _ZEROS,
    _MM + "lapicque.xǁLapicqueǁinitial_state__mutmut_14": _ZEROS,
    _MM + "qif.xǁQIFǁinitial_state__mutmut_12": _ZEROS,
    _MM + "qif.xǁQIFǁinitial_state__mutmut_14": _ZEROS,
    _MF + "x__int_noise__mutmut_11":
        "rng.integers(bound) for rng.integers(0, bound): high=None makes bound the exclusive top of [0, bound), "
        "the same draws from the same stream",
    _MF + "x__int_noise__mutmut_14": "rng.integers without dtype: its default is int64, the same array",
    _MF + "x_wrap_bits__mutmut_8":
        "(x - half) for (x + half): they differ by 2**bits, which the mask removes",
    _MM + "theta.xǁThetaNeuronǁdynamics__mutmut_21":
        "s_safe 2.0 for 1.0 where s = 0: it is read only by the I > 0 and I < 0 branches, which np.where "
        "does not select there (s = 0 means I = 0)",
    _MM + "theta.xǁThetaNeuronǁdynamics__mutmut_76":
        "sp >= 0 in fire_neg: adds only sp = 0 (theta = 0), where s q = s > 0 = sp tanh(st), so it stays False",
    _MM + "theta.xǁThetaNeuronǁdynamics__mutmut_84":
        "sp >= 0 in fire_zero: adds only sp = 0 (theta = 0), where q = 1 > 0 = sp t, so it stays False",
    _MM + "homeostatic_lif.xǁHomeostaticLIFǁinitial_state__mutmut_16": _ZEROS,
    _MM + "homeostatic_lif.xǁHomeostaticLIFǁinitial_state__mutmut_18": _ZEROS,
    _MM + "stochastic_lif.xǁStochasticLIFǁinitial_state__mutmut_12": _ZEROS,
    _MM + "stochastic_lif.xǁStochasticLIFǁinitial_state__mutmut_14": _ZEROS,
    _MM + "fixed_point_lif.xǁFixedPointLIFǁinitial_state__mutmut_5":
        "np.full without dtype: v_rest is a param.Integer (a Python int), so the array is int64 either way",
    _MM + "fixed_point_lif.xǁFixedPointLIFǁinitial_state__mutmut_8": "as FixedPointLIF.initial_state__mutmut_5",
    _MM + "fixed_point_lif.xǁFixedPointLIFǁdraw_noise__mutmut_17":
        "rng.integers without dtype: its default is int64, the same draws",
    _MM + "loihi_cuba.xǁLoihiCUBAǁdynamics__mutmut_54":
        "v clipped at 2**23 + 1 for 2**23 - 1: both are above the largest threshold ((2**17 - 1) << 6 = 2**23 - 64), "
        "so a v that reaches the clip spikes and is reset to 0 either way",
    _MM + "loihi_cuba.xǁLoihiCUBAǁdynamics__mutmut_55": "v clipped at 2**23 - 2: as LoihiCUBA.dynamics__mutmut_54",
    _MM + "fixed_point_lif.xǁFixedPointLIFArrayǁreset__mutmut_4": "spikes.fill(None) on a bool array stores False",
    _MM + "fixed_point_lif.xǁFixedPointLIFǁvalidate__mutmut_18":
        "_check_config without rounding (default 'floor'): rounding is a param.Selector, so its check always passes",
    _MF + "x_rebind__mutmut_15": "FunctionType(..., name=None) takes the code's name, which is func.__name__",
    "engine.models.base.xǁNeuronModelǁdraws_random__mutmut_11":
        "step_noise at dt = 2 for dt = 1: only whether it is zero matters, and the models' noise scales "
        "(std, std * sqrt(dt), an integer range) are zero for both or for neither",
    _MM + "truenorth.xǁTrueNorthNeuronǁdynamics__mutmut_36":
        "logical_not(None) = True adds the spiking neurons to low, but np.where takes spikes first",
    _MM + "truenorth.xǁTrueNorthNeuronǁdynamics__mutmut_45": "as TrueNorth.dynamics__mutmut_36 (mirrored reset)",
    _MM + "truenorth.xǁTrueNorthNeuronǁdynamics__mutmut_37":
        "v <= -beta for v < -beta: adds v = -beta, which saturation sets to -beta, the same value",
})

# engine/models (round 4)
_SAMECOPY = ("casting='unsafe' spelled out where same_kind already allows the copy: np.copyto converts "
             "the same values under either rule")
_FPA = _MM + "fixed_point_lif.xǁFixedPointLIFArrayǁstep__mutmut_"
_SCALAR_OR_ARRAY = ("the other branch of the scalar-or-array cast: dt(array) casts the array, and a 0-d "
                    "asarray multiplies like the scalar, so the kernel sees the same values")
_INT64_OPERAND = ("per-neuron constants left int64: the ufuncs write into the int32 work buffers with "
                  "out= (same_kind), and the low 32 bits of an int64 product or sum are the int32 result")
EQUIVALENT.update({
    _MF + "x__casting__mutmut_3":
        "t == 'XXsXX': a slot index takes the constant rule (ok iff the destination is float); for a float "
        "destination every real dtype casts under same_kind, elsewhere 'unsafe' is only added: same values",
    _MF + "x__casting__mutmut_4": "as _casting__mutmut_3 ('S')",
    _MF + "x__casting__mutmut_5": _SAMECOPY + " (ok = None for slots)",
    _MF + "x__casting__mutmut_11": _SAMECOPY + " (can_cast's default 'safe' is stricter than same_kind)",
    _MF + "x__casting__mutmut_14": _SAMECOPY + " (ok = None for constants)",
    _MF + "x__casting__mutmut_15":
        "a bool constant into a float destination without casting=: bool -> float is safe, the same 0.0/1.0",
    _MF + "x__casting__mutmut_16":
        "constants into non-float destinations without casting=: np.where's result dtype holds its operands, "
        "so such a destination only receives int or bool constants, which same_kind allows",
    _MF + "x__casting__mutmut_17": _SAMECOPY + " (float constants get 'unsafe')",
    _MF + "x__casting__mutmut_18":
        "kind != 'f': float destinations get 'unsafe' (same values); int destinations only receive int or "
        "bool constants (np.where's result dtype holds its operands), which same_kind allows",
    _MF + "x__casting__mutmut_19": _SAMECOPY + " (kind == 'XXfXX' never holds)",
    _MF + "x__casting__mutmut_20": _SAMECOPY + " (kind == 'F' never holds for real dtypes)",
    _MF + "x__casting__mutmut_21": _SAMECOPY + " (always 'unsafe')",
    _MF + "x__compile__mutmut_5":
        "last-read starts at +1: a value produced by op 0 or 1 and never read keeps its buffer to the end "
        "(one buffer more), never an earlier reuse; the same values",
    _MF + "x__compile__mutmut_6": "last-read starts at -2: below every op index, as -1",
    **{_MF + f"x__compile__mutmut_{k}": _UNTRACE for k in (21, 22, 23, 30, 31, 32, 39, 40, 41)},
    **{_MF + f"xǁ_Symǁ__array_function____mutmut_{k}": _UNTRACE for k in range(13, 24)},
    _MF + "x_rk4_cross2__mutmut_10": "a <= -inf for a < -inf: a state is never -inf, so both are all False",
    _MF + "x_rk4_cross3__mutmut_10": "as rk4_cross2__mutmut_10",
    _MF + "x_rk4_cross4__mutmut_10": "as rk4_cross2__mutmut_10",
    _MF + "x_refractory_count__mutmut_7": "period / 1.0 for period * 1.0: the same float for an int or float",
    "engine.models.base.x_get_model__mutmut_32": "get_close_matches without n: its default n is 3",
    _MM + "fixed_point_lif.x__check_config__mutmut_3":
        "saturate's default True for False: the default is only validated, and True is as valid",
    _MM + "fixed_point_lif.x__naive_step__mutmut_1":
        "refractory_hold's default 'XXv_restXX': only compared with 'v_reset', so any other text holds at v_rest",
    _MM + "fixed_point_lif.x__naive_step__mutmut_2": "as _naive_step__mutmut_1 ('V_REST')",
    _MM + "fixed_point_lif.x__naive_step__mutmut_4":
        "rounding's default 'XXfloorXX': shift_product adds a bias only for 'nearest', so any other text is floor",
    _MM + "fixed_point_lif.x__naive_step__mutmut_5": "as _naive_step__mutmut_4 ('FLOOR')",
    _MM + "fixed_point_lif.x__naive_step__mutmut_22":
        "v.astype(None) (float64) of W-bit codes: exact, and fx.wrap converts the float difference to int64",
    _MM + "fixed_point_lif.x__naive_step__mutmut_24":
        "wrap(v_rest - v, 3 w) for 2 w: the difference of two w-bit values fits w + 1 bits, neither wrap changes it",
    _MM + "fixed_point_lif.xǁFixedPointLIFArrayǁ__init____mutmut_131":
        "_raw as float64: it holds the exact sum only to compare with the wrapped one; a sum inside the W-bit "
        "range (< 2**31) is exact in float64, and one outside differs from its wrap by at least 1 either way",
    _MM + "fixed_point_lif.xǁFixedPointLIFArrayǁ__init____mutmut_133": "as FixedPointLIFArray.__init__ 131",
    **{_FPA + str(k): _SCALAR_OR_ARRAY for k in (4, 5, 7, 8, 9, 15, 16, 18, 19, 20)},
    **{_FPA + str(k): _INT64_OPERAND for k in (11, 13, 22, 24)},
    _FPA + "47": "use_refr for refractory_period >= 0: with a period of 0 every counter stays 0, so no neuron "
                 "is held or kept from spiking",
    _FPA + "155": "as FixedPointLIFArray.step 47 (the wrap count's refractory mask is all True at period 0)",
    _FPA + "191": "np.negative of an int8 view into the int32/int64 mask without casting=: int8 widens safely",
    _FPA + "224": "as FixedPointLIFArray.step 191",
    _MM + "fixed_point_lif.xǁFixedPointLIFNeuronǁstep__mutmut_55":
        "v_next <= lo for < lo: at v_next == lo the clip gives lo, the same value",
    _MM + "fixed_point_lif.xǁFixedPointLIFNeuronǁstep__mutmut_58": "v_next >= hi for > hi: as step__mutmut_55",
    _MM + "fixed_point_lif.xǁFixedPointLIFNeuronǁstep__mutmut_56":
        "no clip at the top: v_threshold fits W bits, so a v_next above hi always fires and is reset to v_reset, "
        "clipped or not",
    _MM + "fixed_point_lif.xǁFixedPointLIFNeuronǁstep__mutmut_62":
        "(v_next - half) for (v_next + half) in the wrap: they differ by 2**W, which the mask removes",
    _MM + "fixed_point_lif.xǁFixedPointLIFǁstep__mutmut_6":
        "issubdtype(None, ...) is False: integer input then also goes through isfinite and rint, which leave "
        "integers as they are",
    _MM + "fixed_point_lif.xǁFixedPointLIFǁstep__mutmut_19":
        "astype(None) after the clip: _naive_step reads I_t with np.asarray(dtype=np.int64), so rounded float "
        "codes become the same int64 codes",
    **{_MM + f"adex.xǁAdExǁinitial_state__mutmut_{k}": _ZEROS for k in (12, 14, 18, 20)},
    **{_MM + f"expif.xǁExpIFǁinitial_state__mutmut_{k}": _ZEROS for k in (12, 14)},
    _MM + "expif.xǁExpIFǁinitial_state__mutmut_5":
        "np.full(n, E_L) without dtype: E_L is a Real, stored as a Python float, so the array is float64 anyway",
    _MM + "expif.xǁExpIFǁinitial_state__mutmut_8": "as ExpIF.initial_state__mutmut_5",
    _MM + "wang_buzsaki.xǁWangBuzsakiǁrates__mutmut_7":
        "asarray(v) without dtype: hh_rates converts v with np.asarray(v, dtype=np.float64) itself",
    _MM + "wang_buzsaki.xǁWangBuzsakiǁrates__mutmut_9": "as WangBuzsaki.rates__mutmut_7",
    _MM + "spinnaker_lif.xǁSpiNNakerLIFNeuronǁdynamics__mutmut_14":
        "inner 33-bit wrap of the input code: x mod 2**33 is x mod 2**32 too, and the sum with the offset is "
        "wrapped to 32 bits next",
    _MM + "spinnaker_lif.xǁSpiNNakerLIFNeuronǁdynamics__mutmut_26":
        "alpha wrapped to 33 bits: alpha is read only inside 32-bit wraps (wrap(alpha - v), wrap(alpha - ...)), "
        "which remove a 2**32 difference",
    _MM + "loihi_cuba.xǁLoihiCUBAǁdynamics__mutmut_19":
        "u_new >= 2**23 for > 2**23: u_new = 2**23 becomes -2**23, which the next line (<= -2**23 gains 2**24) "
        "turns back into 2**23",
})

# engine/models/_form.py buffer planner (round 5)
_CP = _MF + "x__compile__mutmut_"
_NAME = ("another prefix for the names that bind constants into the replay's namespace: each name is the "
         "prefix plus a counter shared by all of them, so it stays unique and binds the same object")
_WHERE_ALIAS = ("np.where written in place over an operand that is both its third argument and its condition "
                "or second one: copyto(dst, a, where=dst) and copyto(dst, dst, where=c) give where's values "
                "element by element (checked on where(m, a, m) and where(c, k, k): same values, fewer buffers)")
EQUIVALENT.update({
    **{_CP + str(k): _NAME for k in (80, 83, 84)},
    **{_CP + str(k): _NAME + " (the output's shape and dtype)" for k in (122, 125, 126, 128, 131, 132)},
    **{_CP + str(k): _WHERE_ALIAS for k in (90, 95, 97, 98, 101, 102)},
    _CP + "151": "inplace_ok(..., None) in the state rule: for np.where the operand rule then gives the same "
                 "state array (the only operand it accepts for where is the third, the state's current value); "
                 "other operations are in-place-safe whatever the operand",
    _CP + "167": "the noise array may take a value after its last read: form_step draws it afresh for each step "
                 "and drops it after the replay, so nobody reads what is written there (checked: same values)",
    _CP + "168": "as _compile__mutmut_167 ('n')",
    _CP + "169": "F not kept out of the operand rule: the output's last read is set past the last operation, "
                 "so it is never an operand at its last read",
    _CP + "170": "as _compile__mutmut_169 ('f')",
    _CP + "215": "where's third argument always copied into the target, also when it is already there: "
                 "a copy of a buffer onto itself",
    _CP + "216": "as _compile__mutmut_215 ('S')",
    **{_CP + str(k): _NAME + " (the ufuncs)" for k in (238, 241, 242)},
    _CP + "259": "last[r] <= j for < j: a value is never read by the operation that makes it, so its last "
                 "read is never j",
    _CP + "272": "the tag of a constant new state ('XXcXX'): ref and _casting test for 's' only",
    _CP + "273": "as _compile__mutmut_272 ('C')",
    _MF + "xǁ_Symǁ__array_ufunc____mutmut_8": _UNTRACE,
    **{_MF + f"xǁ_Tracerǁrecord__mutmut_{k}": _UNTRACE for k in (4, 5, 6, 21, 22, 23, 29, 30, 31)},
    _MF + "xǁ_Tracerǁrecord__mutmut_16":
        "'and' in the not-an-array check: _replay_for records only on plain 1-D arrays, and ufuncs and np.where "
        "over those and the models' numbers (param.Number values, dt) give plain 1-D arrays, never a 0-d "
        "result or an ndarray subclass",
    _MF + "xǁ_Tracerǁrecord__mutmut_39": "the tag of a constant operand ('XXcXX'): every reader tests for 's' only",
    _MF + "xǁ_Tracerǁrecord__mutmut_40": "as _Tracer.record__mutmut_39 ('C')",
    _MM + "hodgkin_huxley.xǁHodgkinHuxleyǁrates__mutmut_7":
        "asarray(v) without dtype: hh_rates converts v with np.asarray(v, dtype=np.float64) itself",
    _MM + "hodgkin_huxley.xǁHodgkinHuxleyǁrates__mutmut_9": "as HodgkinHuxley.rates__mutmut_7",
    _MM + "hodgkin_huxley.xǁHodgkinHuxleyǁsteady_gates__mutmut_10":
        "r[3:7] for r[3:6]: hh_rates stacks exactly six rows, so both slices are rows 3-5",
    _MF + "x_lin_rate__mutmut_23":
        "placeholder denominator 2.0 for 1.0 where x = 0: the outer np.where takes c f there, and the "
        "placeholder only keeps that branch's division finite",
    _MF + "x_form_step__mutmut_38":
        "0.0 for an integer model's noise: the next lines replace it with _int_noise's integer for integer "
        "models, so only float models reach it, which get 0.0 anyway",
    _MF + "x_form_step__mutmut_40": "1 for an integer model's noise: replaced by _int_noise as form_step__mutmut_38",
    _MF + "x_form_step__mutmut_82": "np.zeros without dtype for the noise array: its default is float64",
    _MF + "x_form_step__mutmut_84": "as form_step__mutmut_82",
    **{_MF + f"x__plan__mutmut_{k}": (
        "float(std) for TrueNorth's integer noise bound 2**bits: rng.integers(0, 8.0) draws as "
        "rng.integers(0, 8) (checked), and the bound is exact in float64") for k in (38, 40, 41, 42)},
    _MF + "x__plan__mutmut_39": "std not cast to float for normal noise: step_noise gives noise_std * sqrt(dt) "
                                "(a float) or 0, which rng.normal and the truth tests take alike",
    _MF + "x_form_step__mutmut_28":
        "_numpy_forms.get(None) always misses, and numpy_form(dynamics) then looks the same cache up itself",
    _MM + "hodgkin_huxley.x_hh_rates__mutmut_6":
        "asarray(v) without dtype: every rate starts with v plus a shift, and np.ravel(shifts) yields NumPy "
        "float64 scalars, which promote a float32 or integer v to float64 (NEP 50): the same float64 rates",
    _MM + "hodgkin_huxley.x_hh_rates__mutmut_8": "as hh_rates__mutmut_6",
    _MF + "x__replay_for__mutmut_53":
        "integer left out of the cache key: integer models keep int64 state and float models float64 "
        "(initial_state), and the state dtypes are in the key; no two registered classes share a dynamics",
})

# engine/network/io.py (round 3b)
_NIO = "engine.network.io.x_"
_GROWN = ("the file was found no larger than the limit just before; reading more of it matters only "
          "for a file that grows in between, and then parse_document refuses the longer data all the same")
_RESCAN = ("_scanned=False: network_from_dict scans the document again; parse_document has already "
           "scanned it, so the second scan passes and only costs time")
EQUIVALENT.update({
    _NIO + "load_network__mutmut_16": "fh.read() of the whole file: " + _GROWN,
    _NIO + "load_network__mutmut_18": "fh.read(limit + 2): " + _GROWN,
    _NIO + "load_network__mutmut_25": _RESCAN + " (None is falsy)",
    _NIO + "load_network__mutmut_27": _RESCAN + " (the default)",
    _NIO + "load_network__mutmut_28": _RESCAN,
    _NIO + "parse_document__mutmut_6": "'UTF-8' for 'utf-8': Python's codec names are case-insensitive",
    _NIO + "parse_document__mutmut_35": "as parse_document__mutmut_6 (decode)",
    _NIO + "parse_document__mutmut_21":
        "reads limit + 2 instead of limit + 1 decompressed bytes: either is refused as over the limit "
        "(one more byte of memory)",
})

# engine/network (round 4)
_NFD = "engine.network.io.x_network_from_dict__mutmut_"
_SPLIT = ("a key left out of the metadata dict stays in kwargs, and both are passed to from_csr as "
          "keywords, so the call is the same")
_VALIDATED = ("the path only names a non-finite or non-JSON value in _plain's error; declared and model "
              "parameters are validated finite numbers, strings, booleans or None on every assignment "
              "(setattr refuses inf and nan, checked), so that error cannot happen there")
EQUIVALENT.update({
    _NFD + "97": "normalize_training's `where` dropped: its default is 'training', the text passed",
    **{_NFD + str(k): _SPLIT for k in range(402, 408)},
    _NFD + "433": "a float instead of an int64 empty placeholder for indices: set_csr checks the dtype only "
                  "of non-empty arrays and casts to int64; the document's arrays replace it on the next line",
    _NFD + "435": "as network_from_dict__mutmut_433 (dtype dropped)",
    _NW + "io.x_network_to_dict__mutmut_15": _VALIDATED + " (a population's params)",
    _NW + "io.x_network_to_dict__mutmut_62": _VALIDATED + " (a projection's params)",
    _NW + "io.x_network_to_dict__mutmut_112": _VALIDATED + " (a monitor's params)",
    _NW + "declare.x_as_array__mutmut_6": "as monitors._check_record__mutmut_15 ('XXiufXX': no dtype kind is 'X')",
    _NW + "declare.x_as_array__mutmut_10": "astype(None) converts to float64, as astype(np.float64)",
    _NW + "network.xǁNetworkǁrun__mutmut_4": "default backend 'AUTO': resolve_backend lower-cases the name",
    _NW + "network.xǁNetworkǁsimulator__mutmut_2": "as Network.run__mutmut_4 ('AUTO')",
    _NW + "io.x_network_to_dict__mutmut_133": "getattr without its None default: Network.__init__ always sets training",
    _NW + "monitors.xǁMonitorǁ__init____mutmut_15":
        "dt = '' before reset(): every monitor's reset() (called next) sets dt = None",
    _NW + "network.xǁNetworkǁ__init____mutmut_6": "as firing_rates__mutmut_6 (integer(allow_float=None))",
    _NW + "declare.xǁDeclaredǁ_init_declared__mutmut_58":
        "_init_done = None: __setattr__ asks only whether the key is in __dict__, not its value",
    _NW + "declare.xǁDeclaredǁ_init_declared__mutmut_61": "_init_done = False: as _init_declared__mutmut_58",
    **{_NW + f"declare.xǁDeclaredǁ{f}__mutmut_{k}":
       "the per-class cache not used or not kept: the mapping is rebuilt, equal, on every call "
       "(its callers only read it)"
       for f, ks in (("_param_names", (1, 2, 3, 4, 11)), ("declarations", (1, 2, 3, 4, 10))) for k in ks},
    _NW + "network.xǁNetworkǁ__init____mutmut_21":
        "_version starts at 1: it is only compared for equality with its value at the last compile",
    _NW + "network.xǁNetworkǁ_add_one__mutmut_74": "_version -= 1: each add still changes it (see __init____mutmut_21)",
    _NW + "network.xǁNetworkǁ_add_one__mutmut_75": "_version += 2: as _add_one__mutmut_74",
    _NW + "network.xǁNetworkǁ__init____mutmut_24":
        "_sim_key = '': it is read only when a simulator exists, and compiling sets it",
    _NW + "stimuli.xǁStimulusǁ__init____mutmut_7":
        "_warned_dt = '': only compared with a run's dt (a float), which equals neither '' nor None",
    **{_NW + f"projection.xǁProjectionǁ_build__mutmut_{k}": _INT64 for k in (21, 23, 55, 57, 64, 66)},
    **{_NW + f"projection.xǁProjectionǁ_build__mutmut_{k}":
       "ascontiguousarray without dtype: the columns are int64 and the weights float64 already "
       "(arange/choice/geometric give int64; the weight draws, np.full of a float and as_array give float64)"
       for k in (120, 122, 125, 127)},
    _NW + "projection.xǁProjectionǁ_build__mutmut_29":
        "probability used for every topology: _check_consistency (run before every build) requires "
        "probability 1.0 for the non-random ones",
    _NW + "projection.xǁProjectionǁ_build__mutmut_39":
        "topology None in the memory check: projection_bytes treats it as random, n_src * n_tgt * p synapses, "
        "which is all_to_all's count at p = 1 and random's own",
    _NW + "projection.xǁProjectionǁ_build__mutmut_92":
        "threshold filter also at 0: |w| >= 0 keeps every (finite) weight",
    _NW + "projection.xǁProjectionǁ_sample_random__mutmut_10":
        "empty columns as float64: _build casts them to int64 (ascontiguousarray)",
    _NW + "projection.xǁProjectionǁ_sample_random__mutmut_12": "as _sample_random__mutmut_10",
    _NW + "projection.xǁProjectionǁ_sample_random__mutmut_101": "as PoissonInput.apply__mutmut_4 (u <= p)",
    _NW + "projection.xǁProjectionǁ_sample_random__mutmut_29":
        "choice(replace=None): numpy tests the flag for truth, so None draws without replacement as False (checked: same draws)",
    _NW + "projection.xǁProjectionǁ_sample_random__mutmut_82":
        "blocks of at least 2 rows: the uniforms are drawn row-major either way, the same count and order",
})

STATUS_RE = re.compile(r"^\s+(\S+): (.+)$")
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def project_mutmut_config() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f).get("tool", {}).get("mutmut", {})


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "[" + ", ".join(toml_value(x) for x in v) + "]"


def prepare(name: str, mod: Module, fresh: bool) -> Path:
    """Scratch copy of what mutmut and the tests need, with this module's config."""
    # a listed test file that does not exist is an error, not left out: mutmut 3
    # forgets every verdict of a module when its test selection changes, so a
    # file that appeared later would silently restart the module
    missing = [t for t in mod.tests if not (ROOT / t).exists()]
    if missing:
        raise ValueError(f"tests of module {name!r}: {missing} do not exist (create them, even empty, "
                         "before the module's first run)")
    d = WORK / name
    if fresh and d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True, exist_ok=True)
    top_dirs = sorted({s.split("/")[0] for s in mod.sources} | {"engine", "tests"} | set(mod.copy))
    ignore = shutil.ignore_patterns("__pycache__", "artifacts", "build", "*.vcd", "sim_build")
    for top in top_dirs:
        # copied afresh each run: mutmut re-mutates a source whose mtime changed
        # and keeps the verdicts of functions whose text did not
        src, dst = ROOT / top, d / top
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src, dst, ignore=ignore, copy_function=shutil.copy2)
    cfg = dict(project_mutmut_config())
    sources_dirs = sorted({s.split("/")[0] for s in mod.sources})
    cfg["source_paths"] = sources_dirs
    cfg["only_mutate"] = list(mod.sources)
    cfg["pytest_add_cli_args_test_selection"] = list(mod.tests) + \
        [f"--deselect={t}" for t in mod.deselect] + (["-k", mod.keyword] if mod.keyword else [])
    cfg["also_copy"] = sorted(set(mod.copy) | (set(top_dirs) - set(sources_dirs) - {"tests"}))
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", text)
    text += "\n[tool.mutmut]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in cfg.items())
    (d / "pyproject.toml").write_text(text)
    return d


def mutmut(d: Path, *args: str, timeout: float | None = None) -> tuple[int, str]:
    exe = Path(sys.executable).with_name("mutmut")
    cmd = [str(exe) if exe.exists() else "mutmut", *args]
    # the compiled backend's generated kernels (one per mutant of the generator)
    # go into the scratch copy, not the user's cache
    env = dict(os.environ, NEUROCORE_CACHE_DIR=os.environ.get("NEUROCORE_CACHE_DIR") or str(d / "kernel_cache"))
    proc = subprocess.Popen(cmd, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env=env)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # SIGINT lets mutmut stop its workers and keep the verdicts so far
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        out += "\n[budget reached]\n"
    return proc.returncode, out


def results(d: Path) -> dict[str, str]:
    _, out = mutmut(d, "results", "--all", "true", timeout=300)
    return {m.group(1): m.group(2).strip() for line in out.splitlines() if (m := STATUS_RE.match(line))}


# -- the torch backend (round 5) ---------------------------------------------------------------
_TB = "engine.backends.torch_backend."
_TBS = _TB + "xǁTorchSimulatorǁ"
EQUIVALENT.update({
    _TB + "x__like__mutmut_10":
        "int64 for every scalar with a mask as reference: the scalars here are ints or floats (Python or NumPy); "
        "an int gets int64 either way, a float float64 from the next line",
    _TBS + "_noise__mutmut_11": "rng.integers(std) is rng.integers(0, std): the same range and the same draws",
    _TBS + "_noise__mutmut_14": "rng.integers without dtype: NumPy's default for integer bounds is int64",
    _TBS + "_noise__mutmut_21":
        "draws(None, ...): the one model family with a draw mask (StochasticLIF) does not read p in draws",
    _TBS + "_setup_populations__mutmut_1":
        "_forms = None at setup: _prepare, run by the base __init__ next and at every advance, sets it again",
    # a device type that is never "XXcpuXX" or "CPU": the other branch, which on a CPU reads (or copies back
    # to itself) the same memory, and on CUDA is the branch taken anyway
    **{_TBS + f"_read_state__mutmut_{k}": "device type compared with a name no device has: on a CPU the "
       "tensor path reads the memory it shares with population.state" for k in (2, 3)},
    **{_TBS + f"_finish_advance__mutmut_{k}": "device type compared with a name no device has: on a CPU the "
       "copy back writes population.state's memory onto itself" for k in (2, 3)},
    **{_TBS + f"_prepare__mutmut_{k}": "on_cpu False (or the tensor always moved): on a CPU .to(cpu) returns the "
       "tensor itself, on CUDA it is the move the code makes anyway" for k in (3, 5, 6, 25)},
})

#: Mutants that only change what happens on a device this machine does not
#: have (CUDA): where a tensor is placed and the copies to and from it.  On a
#: CPU every placement is the CPU and ``.to(cpu)`` returns the tensor itself, so
#: no test can tell them apart here.  They are left out of the score and listed
#: as "device only"; on a machine with CUDA, ``test_pinned_torch_backend.py``'s
#: CUDA tests run and count them as killed or survived.
_CUDA = "places a tensor on the CPU instead of the simulator's device: the same on a CPU-only machine"
DEVICE_ONLY: dict[str, str] = {
    **{_TB + f"x__like__mutmut_{k}": _CUDA for k in (2, 4, 16, 19)},
    **{_TB + f"x__where__mutmut_{k}": _CUDA for k in (13, 15, 26, 29)},
    **{_TBS + f"_noise__mutmut_{k}": _CUDA for k in (5, 48)},
    **{_TBS + f"_torch_params__mutmut_{k}": _CUDA for k in (6, 9)},
    **{_TBS + f"_prepare__mutmut_{k}": "on CUDA the state tensors would stay on the CPU; on a CPU they are there"
       for k in (4, 26, 27)},
}


@dataclass
class Score:
    name: str
    status: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def counts(self):
        c = {"killed": 0, "survived": 0, "no tests": 0, "other": 0, "not checked": 0, "equivalent": 0,
             "device only": 0}
        for m, s in self.status.items():
            if m in EQUIVALENT:
                c["equivalent"] += 1
            elif s in KILLED:
                c["killed"] += 1
            elif m in DEVICE_ONLY:
                c["device only"] += 1
            elif s in ("survived", "no tests", "not checked"):
                c[s] += 1
            else:
                c["other"] += 1
        return c

    def score(self) -> float | None:
        c = self.counts()
        judged = c["killed"] + c["survived"] + c["no tests"] + c["other"]
        return None if judged == 0 else 100.0 * c["killed"] / judged


def _selected(mod: Module, mutant: str) -> bool:
    return not mod.only or any(fnmatch.fnmatch(mutant, g) for g in mod.only)


def run_module(name: str, budget: float, fresh: bool, workers: int, rerun: bool = False) -> Score:
    mod = MODULES[name]
    d = prepare(name, mod, fresh)
    names = []
    if mod.only and (d / "mutants").exists():
        # mutmut re-reads a changed source only inside "run"; a run filtered on a
        # name that matches nothing does that (and the stats) and then stops, so
        # the changed functions' mutants show up below as "not checked"
        mutmut(d, "run", "--max-children", "1", "regenerate-only.no-such-mutant", timeout=budget)
    if mod.only:
        done = results(d) if (d / "mutants").exists() else {}
        names = sorted(m for m, st in done.items() if _selected(mod, m) and st == "not checked") \
            if done else list(mod.only)
        if done and not names and not rerun:
            return Score(name, {m: st for m, st in done.items() if _selected(mod, m)}, 0.0)
    if rerun and (d / "mutants").exists():
        # mutmut keeps a verdict until the function's text changes; after new
        # tests, name the survivors to have them tried again
        names += sorted(m for m, st in results(d).items()
                        if st in ("survived", "no tests") and m not in EQUIVALENT and _selected(mod, m))
    if mod.only and not names and (d / "mutants").exists():
        # nothing of this module's selection to try: a "run" without names would try every
        # unselected mutant of the shared source file
        return Score(name, {m: st for m, st in results(d).items() if _selected(mod, m)}, 0.0)
    t0 = time.monotonic()
    rc, out = mutmut(d, "run", "--max-children", str(workers), *names, timeout=budget)
    sc = Score(name, {m: st for m, st in results(d).items() if _selected(mod, m)}, time.monotonic() - t0)
    if not sc.status:
        print(out[-3000:], file=sys.stderr)
    return sc


def report(scores: list[Score], show_survivors: bool = True) -> str:
    lines = [f"{'module':26} {'score':>7} {'killed':>7} {'surv.':>6} {'no test':>7} {'other':>6} "
             f"{'unrun':>6} {'equiv.':>6} {'device':>6} {'secs':>6}"]
    for s in scores:
        c, pct = s.counts(), s.score()
        lines.append(f"{s.name:26} {('%.1f%%' % pct) if pct is not None else '-':>7} {c['killed']:7} "
                     f"{c['survived']:6} {c['no tests']:7} {c['other']:6} {c['not checked']:6} "
                     f"{c['equivalent']:6} {c['device only']:6} {s.seconds:6.0f}")
    if show_survivors:
        for s in scores:
            left = sorted(m for m, st in s.status.items()
                          if m not in EQUIVALENT and st not in KILLED and st != "not checked")
            if left:
                lines.append(f"\n{s.name}: {len(left)} not killed (mutmut show NAME in mutants/{s.name}/)")
                lines += [f"  {m}: {s.status[m]}" + (" (device only)" if m in DEVICE_ONLY else "")
                          for m in left]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="*", help="modules to run (default: all)")
    ap.add_argument("--budget", type=float, default=float(os.environ.get("MUTATION_BUDGET", 300)),
                    help="seconds per module (default 300, env MUTATION_BUDGET)")
    ap.add_argument("--workers", type=int, default=1, help="parallel mutant workers (default 1)")
    ap.add_argument("--fresh", action="store_true", help="forget earlier verdicts")
    ap.add_argument("--rerun-survivors", action="store_true",
                    help="try the stored survivors again (after adding tests)")
    ap.add_argument("--report-only", action="store_true", help="print the stored verdicts, run nothing")
    ap.add_argument("--list", action="store_true", help="list the modules and their test subsets")
    a = ap.parse_args(argv)
    if a.list:
        for n, m in MODULES.items():
            print(f"{n}: {', '.join(m.sources)}\n    tests: {' '.join(m.tests)}")
        return 0
    names = a.modules or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        raise ValueError(f"modules: unknown {unknown}; choose from {list(MODULES)}")
    if a.budget <= 0:
        raise ValueError(f"budget must be positive, got {a.budget}")
    scores = []
    for n in names:
        if a.report_only:
            d = WORK / n
            done = results(d) if (d / "mutants").exists() else {}
            scores.append(Score(n, {m: st for m, st in done.items() if _selected(MODULES[n], m)}))
        else:
            print(f"== {n} (budget {a.budget:.0f} s)", flush=True)
            scores.append(run_module(n, a.budget, a.fresh, a.workers, a.rerun_survivors))
            print(report([scores[-1]], show_survivors=False), flush=True)
    print()
    print(report(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())

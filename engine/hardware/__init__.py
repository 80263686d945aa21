"""Hardware model tooling: RTL co-simulation (``cosim``), Verilog/memory export
(``export``), yosys synthesis estimates (``synth``) and the float-vs-fixed
comparison report (``report``).

May import: numpy, ``engine.fixedpoint``, ``engine.models``, ``engine.network``,
``engine.backends``.  External tools (iverilog, vvp, yosys) are run as
subprocesses and only when a function needs them; a missing tool raises
:class:`engine.hardware.cosim.ToolMissingError` with an install hint.
"""

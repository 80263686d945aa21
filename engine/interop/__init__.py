"""Exchange with other tools.

``engine.interop.nir``: networks to and from NIR, the Neuromorphic
Intermediate Representation (``nir`` package, imported only when used).
May import ``engine.network`` and ``engine.models``; never the GUI.
"""

"""NIR files for the builder's "Export NIR" / "Import NIR" buttons.

Plain functions over the store's JSON document (no Panel): the page calls
them and shows a refused file's ``ValueError`` message while keeping the
canvas as it was.  The mapping itself is ``engine.interop.nir``.
"""

from __future__ import annotations

import os
import tempfile

__all__ = ["export_nir_bytes", "import_nir_bytes", "MAX_NIR_BYTES"]

#: larger uploads are refused before parsing (the JSON loader's limit too)
MAX_NIR_BYTES = 50 * 1024 * 1024


def export_nir_bytes(document: dict, dt: float = 0.001) -> bytes:
    """The network ``document`` as the bytes of a ``.nir`` (HDF5) file.

    Raises ``ValueError`` naming what NIR cannot express (a model, noise,
    a refractory period, plasticity...)."""
    import nir

    from engine.interop.nir import to_nir
    from engine.network import Network

    graph = to_nir(Network.from_dict(document), dt=dt)
    fd, path = tempfile.mkstemp(suffix=".nir")
    os.close(fd)
    try:
        nir.write(path, graph)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def import_nir_bytes(data: bytes, default_dt: float | None = None) -> dict:
    """The network document of a ``.nir`` file's bytes.

    ``default_dt`` (s) is used when the graph does not state its step (files
    from snnTorch 1.0.0 do not; it steps with 1e-4 s).  The graph's external
    inputs become no stimulus (NIR's input is data, not part of the network);
    they are listed under ``meta["nir_inputs"]``.  Raises ``ValueError`` with
    the reason for a file that is not NIR or holds a graph we cannot map."""
    import nir

    from engine.interop.nir import from_nir

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise ValueError("the NIR file is empty")
    if len(data) > MAX_NIR_BYTES:
        raise ValueError(f"the NIR file has {len(data)} bytes, more than the limit of {MAX_NIR_BYTES}")
    if not data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise ValueError("not a NIR file: NIR files are HDF5 (no HDF5 signature found)")
    fd, path = tempfile.mkstemp(suffix=".nir")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            graph = nir.read(path)
        except Exception as exc:  # noqa: BLE001 - h5py/nir raise many kinds on a malformed file
            raise ValueError(f"not a readable NIR graph: {type(exc).__name__}: {exc}") from None
    finally:
        os.unlink(path)
    meta = graph.metadata if isinstance(graph.metadata, dict) else {}
    dt = None if "dt" in meta else default_dt
    result = from_nir(graph, dt=dt)
    doc = result.network.to_dict()
    doc["meta"] = {"nir_inputs": {name: [e.target for e in edges] for name, edges in result.inputs.items()},
                   "nir_dt": result.dt}
    return doc

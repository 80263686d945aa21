"""The builder's NIR buttons: document -> .nir bytes -> document, and refusals."""
import numpy as np
import pytest

pytest.importorskip("nir")

from engine.network import ConstantCurrent, Network, Population, Projection  # noqa: E402
from neurocore_gui.nir_files import export_nir_bytes, import_nir_bytes  # noqa: E402


def _doc():
    a = Population("LapicqueNeuron", 4, params={"tau": 12.0}, label="a")
    b = Population("StochasticLIFNeuron", 3, label="b")
    return Network(a, b, Projection(a, b, 0.7, probability=0.5, seed=2), ConstantCurrent(1.4, target=a)).to_dict()


def test_bytes_round_trip_keeps_the_document_and_spikes():
    doc = _doc()
    data = export_nir_bytes(doc)
    assert data[:8] == b"\x89HDF\r\n\x1a\n"
    back = import_nir_bytes(data)
    assert back["meta"]["nir_inputs"] == {"input": ["a"]}
    back.pop("meta")
    assert back == doc
    runs = [Network.from_dict(d).run(0.2)["spike_counts"] for d in (doc, back)]
    assert runs[0] == runs[1] and runs[0]["a"] > 0


def test_export_refuses_with_the_reason():
    doc = Network(Population("AdExNeuron", 2, label="x")).to_dict()
    with pytest.raises(ValueError, match="AdExNeuron has no NIR equivalent"):
        export_nir_bytes(doc)


def test_import_refuses_bad_files_with_the_reason():
    with pytest.raises(ValueError, match="empty"):
        import_nir_bytes(b"")
    with pytest.raises(ValueError, match="HDF5"):
        import_nir_bytes(b'{"schema_version": 1}')
    with pytest.raises(ValueError, match="not a readable NIR graph"):
        import_nir_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)


def test_import_of_a_graph_without_dt_needs_a_default(tmp_path):
    import nir

    n = 2
    g = nir.NIRGraph(nodes={"input": nir.Input(np.array([n])),
                            "l": nir.LIF(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n),
                                         v_threshold=np.ones(n), v_reset=np.zeros(n)),
                            "output": nir.Output(np.array([n]))},
                     edges=[("input", "l"), ("l", "output")])
    path = tmp_path / "g.nir"
    nir.write(path, g)
    data = path.read_bytes()
    with pytest.raises(ValueError, match="dt"):
        import_nir_bytes(data)
    doc = import_nir_bytes(data, default_dt=1e-3)
    assert doc["populations"][0]["model"] == "StochasticLIFNeuron"
    assert doc["populations"][0]["params"]["tau_mem"] == pytest.approx(10.0)

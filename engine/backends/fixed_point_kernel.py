"""Compiled chunk loop of the ``fixed_point`` backend (numba).

:class:`engine.backends.fixed_point.FixedPointSimulator` steps a network with
one Python iteration per step (the shared graph loop plus a dozen small NumPy
calls per population): for 100-300 neurons that per-step overhead, not the
arithmetic, is most of a run.  :func:`run_chunk` runs a whole chunk in one
compiled call, with the same int64 operations in the same order as the Python
path (``FixedPointLIFArray.step`` with ``count_wraps=True``,
``FixedPointSimulator.input_codes`` and ``_syn_update``), so the codes,
spikes, wrap and saturation counts are identical -- ``tests/engine/
test_fixed_point_compiled.py`` compares the two on random networks and every
option combination.

Stimuli are evaluated in Python before the call (one row of codes' floats per
step, as the compiled float backend does); the delay lines are the base
simulator's spike rings, flattened for the call and written back after it.
Noise (``noise_amplitude``) and plasticity stay on the Python path.

Imported lazily: importing numba costs about half a second.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["run_chunk"]


@njit(cache=True, nogil=True)
def run_chunk(n_steps, t0, off, STIM, has_stim, native, scale, lo, hi, F, W,
              LEAK, GAIN, v_rest, v_reset, v_thr, refr_period, v_hold, bias, saturate,
              V, CNT, WRAPS, INSAT,
              psrc, pdelay, pdest, ip_off, e_off, INDPTR, IND, CODES,
              DEST, g_k, g_dest, g_state, SYNST, gp_ptr, gp_idx,
              hist_len, hb_idx, hb_cnt, HIDX, HCNT,
              OUT_T, OUT_I, cnt, rates, rec_pop, rec_var, rec_idx, REC):
    npop = off.shape[0] - 1
    N = off[npop]
    nproj = psrc.shape[0]
    shift = 64 - W
    for s in range(n_steps):
        t = t0 + s
        # every destination buffer (currents, synaptic arrivals) starts the step at 0
        for j in range(DEST.shape[0]):
            DEST[j] = 0
        # CSR delivery of the spikes ``delay`` steps back
        for r in range(nproj):
            k = psrc[r]
            slot = (t - 1 - pdelay[r]) % hist_len[k]
            c = HCNT[hb_cnt[k] + slot]
            base = hb_idx[k] + slot * (off[k + 1] - off[k])
            ipo, eo, dst = ip_off[r], e_off[r], pdest[r]
            for q in range(c):
                i = HIDX[base + q]
                for e in range(INDPTR[ipo + i], INDPTR[ipo + i + 1]):
                    DEST[dst + IND[eo + e]] += CODES[eo + e]
        for k in range(npop):
            n_k = off[k + 1] - off[k]
            use_refr = refr_period[k] > 0
            sat = saturate[k]
            b = bias[k]
            nsat = 0
            spikes = 0
            for i in range(n_k):
                gi = off[k] + i
                proj = DEST[gi]
                # synaptic-current registers: syn <- fit(((syn * syn_k) >> F) + arrivals)
                for gq in range(gp_ptr[k], gp_ptr[k + 1]):
                    g = gp_idx[gq]
                    nxt = ((SYNST[g_state[g] + i] * g_k[g]) >> F) + DEST[g_dest[g] + i]
                    if nxt < lo:
                        nxt = lo
                        nsat += 1
                    elif nxt > hi:
                        nxt = hi
                        nsat += 1
                    SYNST[g_state[g] + i] = nxt
                    proj += nxt
                # I_t = sat_W(sat_W(stimulus code) + summed weight codes)
                total = proj
                if has_stim:
                    x = STIM[s, gi]
                    if x != 0.0:
                        if native[k]:
                            sc = np.rint(x)
                        else:
                            sc = np.floor(abs(x) * scale + 0.5)
                            if x < 0.0:
                                sc = -sc
                        if sc < lo:
                            sc = float(lo)
                            nsat += 1
                        elif sc > hi:
                            sc = float(hi)
                            nsat += 1
                        total = np.int64(sc) + proj
                if total < lo:
                    total = lo
                    nsat += 1
                elif total > hi:
                    total = hi
                    nsat += 1
                # the neuron (sc_lif_neuron), int64 as FixedPointLIFArray.step
                v = V[gi]
                t1 = (((v_rest[k] - v) * LEAK[gi]) + b) >> F
                t2 = ((total * GAIN[gi]) + b) >> F
                t1 = t1 + t2 + v
                raw = t1
                if sat:
                    if t1 < lo:
                        t1 = lo
                    elif t1 > hi:
                        t1 = hi
                else:
                    t1 = (t1 << shift) >> shift
                cn = CNT[gi]
                if raw != t1 and (not use_refr or cn == 0):
                    WRAPS[gi] += 1
                spk = t1 >= v_thr[k]
                if use_refr:
                    if cn > 0:
                        spk = False
                        cn -= 1
                        t1 = v_hold[k]
                    if spk:
                        cn += refr_period[k]
                    CNT[gi] = cn
                if spk:
                    V[gi] = v_reset[k]
                    OUT_T[cnt[0]] = t
                    OUT_I[cnt[0]] = gi
                    cnt[0] += 1
                    HIDX[hb_idx[k] + (t % hist_len[k]) * n_k + spikes] = i
                    spikes += 1
                else:
                    V[gi] = t1
            INSAT[k] += nsat
            HCNT[hb_cnt[k] + t % hist_len[k]] = spikes
            rates[s, k] = spikes * (1.0 / n_k)   # as the base loop: m * (1 / n)
        for j in range(rec_pop.shape[0]):
            gi = off[rec_pop[j]] + rec_idx[j]
            REC[s, j] = V[gi] if rec_var[j] == 0 else CNT[gi]
    return cnt[0]

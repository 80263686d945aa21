r"""The equations of every registered model in LaTeX, keyed by registry name.

Each entry is a list of display-math lines (KaTeX / MathJax syntax) and
follows the kernel of ``engine/models/<model>.py`` and its reference; the
reset rule, where there is one, is the last line.  ``tests/engine/
test_analysis_equations.py`` checks that every registered model has an entry.
"""

from __future__ import annotations

from engine.models import get_model

__all__ = ["EQUATIONS", "equations_latex"]

_HH_RATES = [
    r"\alpha_m = \frac{0.1\,(V+40)}{1 - e^{-(V+40)/10}},\quad \beta_m = 4\,e^{-(V+65)/18}",
    r"\alpha_h = 0.07\,e^{-(V+65)/20},\quad \beta_h = \frac{1}{1 + e^{-(V+35)/10}}",
    r"\alpha_n = \frac{0.01\,(V+55)}{1 - e^{-(V+55)/10}},\quad \beta_n = 0.125\,e^{-(V+65)/80}",
]

EQUATIONS: dict[str, list[str]] = {
    "LapicqueNeuron": [
        r"\tau\,\frac{dv}{dt} = -(v - v_{rest}) + R\,I",
        r"v \ge v_{threshold} \;\Rightarrow\; \text{spike},\; v \leftarrow v_{reset}",
    ],
    "StochasticLIFNeuron": [
        r"\tau_{mem}\,\frac{dv}{dt} = -(v - v_{rest}) + \tau_{mem} R\,I + \sigma\,\sqrt{\tau_{mem}}\,\xi(t)",
        r"v \ge v_{threshold} \;\Rightarrow\; \text{spike},\; v \leftarrow v_{reset}",
    ],
    "HomeostaticLIFNeuron": [
        r"\tau_{mem}\,\frac{dv}{dt} = -(v - v_{rest}) + \tau_{mem} R\,I + \text{noise}",
        r"r \leftarrow \lambda\,r + (1 - \lambda)\,s, \qquad \vartheta \leftarrow \vartheta + \eta\,(r - r_{target})",
        r"v \ge \vartheta \;\Rightarrow\; \text{spike } (s = 1),\; v \leftarrow v_{reset}",
    ],
    "PerfectIntegratorNeuron": [
        r"C\,\frac{dv}{dt} = I",
        r"v \ge v_{threshold} \;\Rightarrow\; \text{spike},\; v \leftarrow v_{reset}",
    ],
    "AdaptiveThresholdIFNeuron": [
        r"\tau_m\,\frac{dv}{dt} = -(v - v_{rest}) + R\,I",
        r"\tau_\theta\,\frac{d\theta}{dt} = -(\theta - \theta_0)",
        r"v \ge \theta \;\Rightarrow\; \text{spike},\; v \leftarrow v_{reset},\; \theta \leftarrow \theta + \Delta\theta",
    ],
    "QIFNeuron": [
        r"\tau_m\,\frac{dV}{dt} = a_0\,(V - V_{rest})(V - V_c) + R\,I",
        r"V \ge V_{peak} \;\Rightarrow\; \text{spike},\; V \leftarrow V_{reset}",
    ],
    "ExpIFNeuron": [
        r"\tau_m\,\frac{dV}{dt} = -(V - E_L) + \Delta_T\,e^{(V - V_T)/\Delta_T} + R\,I",
        r"V \ge V_{peak} \;\Rightarrow\; \text{spike},\; V \leftarrow V_{reset}",
    ],
    "AdExNeuron": [
        r"C\,\frac{dV}{dt} = -g_L (V - E_L) + g_L \Delta_T\,e^{(V - V_T)/\Delta_T} - w + I",
        r"\tau_w\,\frac{dw}{dt} = a\,(V - E_L) - w",
        r"V \ge V_{peak} \;\Rightarrow\; \text{spike},\; V \leftarrow V_{reset},\; w \leftarrow w + b",
    ],
    "Izhikevich2007Neuron": [
        r"C\,\frac{dv}{dt} = k\,(v - v_r)(v - v_t) - u + I",
        r"\frac{du}{dt} = a\,\big(b\,(v - v_r) - u\big)",
        r"v \ge v_{peak} \;\Rightarrow\; \text{spike},\; v \leftarrow c,\; u \leftarrow u + d",
    ],
    "SCIzhikevichNeuron": [
        r"\frac{dv}{dt} = 0.04\,v^2 + 5\,v + 140 - u + I",
        r"\frac{du}{dt} = a\,(b\,v - u)",
        r"v \ge 30\ \text{mV} \;\Rightarrow\; \text{spike},\; v \leftarrow c,\; u \leftarrow u + d",
    ],
    "Izhikevich2004Neuron": [
        r"\frac{dv}{dt} = k_2\,v^2 + k_1\,v + k_0 - u + I",
        r"\frac{du}{dt} = a\,\big(b\,(v - v_u) - u_{decay}\,u\big)",
        r"v \ge 30\ \text{mV} \;\Rightarrow\; \text{spike},\; v \leftarrow c,\; u \leftarrow u + d",
    ],
    "ThetaNeuron": [
        r"\tau\,\frac{d\theta}{dt} = (1 - \cos\theta) + (1 + \cos\theta)\,I",
        r"\theta \text{ passes } \pi \;\Rightarrow\; \text{spike}",
    ],
    "ResonateAndFireNeuron": [
        r"\frac{dz}{dt} = (b + i\omega)\,z + I, \qquad z = x + i\,y",
        r"y \ge y_{threshold} \;\Rightarrow\; \text{spike},\; z \leftarrow x_{reset} + i\,y_{reset}",
    ],
    "FitzHughNagumoNeuron": [
        r"\frac{dv}{dt} = v - \frac{v^3}{3} - w + I",
        r"\tau\,\frac{dw}{dt} = v + a - b\,w",
        r"\text{spike: } v \text{ crosses } v_{spike} \text{ upwards (no reset)}",
    ],
    "HindmarshRoseNeuron": [
        r"\frac{dx}{dt} = y - a\,x^3 + b\,x^2 - z + I",
        r"\frac{dy}{dt} = c - d\,x^2 - y",
        r"\frac{dz}{dt} = r\,\big(s\,(x - x_R) - z\big)",
        r"\text{spike: } x \text{ crosses } x_{spike} \text{ upwards (no reset)}",
    ],
    "MorrisLecarNeuron": [
        r"C\,\frac{dV}{dt} = I - g_L (V - V_L) - g_{Ca}\,m_\infty(V)\,(V - V_{Ca}) - g_K\,w\,(V - V_K)",
        r"\frac{dw}{dt} = \phi\,\frac{w_\infty(V) - w}{\tau_w(V)}",
        r"m_\infty = \tfrac12\big[1 + \tanh\tfrac{V - V_1}{V_2}\big],\quad "
        r"w_\infty = \tfrac12\big[1 + \tanh\tfrac{V - V_3}{V_4}\big],\quad "
        r"\tau_w = \frac{1}{\cosh\frac{V - V_3}{2 V_4}}",
        r"\text{spike: } V \text{ crosses } v_{spike} \text{ upwards (no reset)}",
    ],
    "HodgkinHuxleyNeuron": [
        r"C_m\,\frac{dV}{dt} = I - g_{Na}\,m^3 h\,(V - E_{Na}) - g_K\,n^4 (V - E_K) - g_L (V - E_L)",
        r"\frac{dx}{dt} = \phi\,\big[\alpha_x(V)\,(1 - x) - \beta_x(V)\,x\big],\quad x \in \{m, h, n\},"
        r"\quad \phi = 3^{(T - 6.3)/10}",
        *_HH_RATES,
        r"\text{spike: } V \text{ crosses } v_{spike} \text{ upwards (no reset)}",
    ],
    "WangBuzsakiNeuron": [
        r"C_m\,\frac{dV}{dt} = I - g_{Na}\,m_\infty^3 h\,(V - E_{Na}) - g_K\,n^4 (V - E_K) - g_L (V - E_L)",
        r"\frac{dh}{dt} = \phi\,[\alpha_h (1 - h) - \beta_h h],\quad \frac{dn}{dt} = \phi\,[\alpha_n (1 - n) - \beta_n n],"
        r"\quad m_\infty = \frac{\alpha_m}{\alpha_m + \beta_m}",
        r"\alpha_m = \frac{0.1\,(V+35)}{1 - e^{-(V+35)/10}},\quad \beta_m = 4\,e^{-(V+60)/18}",
        r"\alpha_h = 0.07\,e^{-(V+58)/20},\quad \beta_h = \frac{1}{1 + e^{-(V+28)/10}}",
        r"\alpha_n = \frac{0.01\,(V+34)}{1 - e^{-(V+34)/10}},\quad \beta_n = 0.125\,e^{-(V+44)/80}",
        r"\text{spike: } V \text{ crosses } v_{spike} \text{ upwards (no reset)}",
    ],
    "WilsonCowanPopulation": [
        r"\tau_E\,\frac{dE}{dt} = -E + (k_E - r_E E)\,S_E(c_1 E - c_2 I + P + I_{ext})",
        r"\tau_I\,\frac{dI}{dt} = -I + (k_I - r_I I)\,S_I(c_3 E - c_4 I + Q)",
        r"S(x) = \frac{1}{1 + e^{-a (x - \theta)}} - \frac{1}{1 + e^{a \theta}}",
    ],
    "RulkovMapNeuron": [
        r"x_{n+1} = \frac{\alpha}{1 + x_n^2} + y_n + \beta_e I_n",
        r"y_{n+1} = y_n - \mu\,(x_n + 1) + \mu\,(\sigma + \sigma_e I_n)",
    ],
    "StochasticDendriticNeuron": [
        r"I_d = a + b - 2ab \quad (= P(a \oplus b) \text{ for bitstreams})",
        r"\text{spike} = [\,I_d > \theta\,]",
    ],
    "FixedPointLIFNeuron": [
        r"\Delta v_{leak} = \big(\mathrm{wrap}_{2W}(v_{rest} - v)\cdot k_{leak}\big) \gg F,\qquad "
        r"\Delta v_{in} = (I \cdot k_{gain}) \gg F",
        r"v \leftarrow \mathrm{wrap}_W(v + \Delta v_{leak} + \Delta v_{in} + \text{noise})",
        r"v \ge v_{threshold} \;\Rightarrow\; \text{spike},\; v \leftarrow v_{reset}",
    ],
    "LoihiCUBANeuron": [
        r"u \leftarrow \mathrm{trunc}\!\left(u\,\frac{4096 - d_u - 1}{4096}\right) + 64\,a",
        r"v \leftarrow \mathrm{trunc}\!\left(v\,\frac{4096 - d_v}{4096}\right) + u + b_{mant}\,2^{b_{exp}}",
        r"v > v_{th}\,2^{6} \;\Rightarrow\; \text{spike},\; v \leftarrow 0",
    ],
    "SpiNNakerLIFNeuron": [
        r"\alpha = I\,R + V_{rest},\qquad V \leftarrow \alpha - e^{-\Delta t/\tau_m}\,(\alpha - V) "
        r"\quad \text{(s16.15 fixed point)}",
        r"V \ge V_{thresh} \;\Rightarrow\; \text{spike},\; V \leftarrow V_{reset},\; \text{refractory } \tau_{refrac}",
    ],
    "TrueNorthNeuron": [
        r"V \leftarrow V + I, \qquad V \leftarrow V - \lambda\ \text{(leak, towards } V_{rev}\text{ if set)}",
        r"V \ge \alpha \;\Rightarrow\; \text{spike},\; V \leftarrow R \text{ (or } V - \alpha\text{)},\qquad "
        r"V < -\beta \;\Rightarrow\; \text{negative saturation / reset}",
    ],
}


def equations_latex(model) -> list[str]:
    """The display-math lines of ``model`` (name, alias or class)."""
    cls = get_model(model)
    return list(EQUATIONS.get(cls.registry_name(), []))

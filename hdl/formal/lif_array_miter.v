// Miter: every lane of sc_lif_array equals a stand-alone sc_lif_neuron fed the
// same inputs (per-neuron constants, SHARED_K = 0).  Proved by SymbiYosys
// (hdl/formal/lif_array_miter.sby); the array's neurons are the gate, the
// stand-alone neurons the gold model.
//
// The assertions cover the whole state of each pair -- spike, membrane and
// the hidden refractory counter -- so the property is inductive at depth 1:
// equal states and equal inputs must give equal next states.  Comparing the
// outputs alone needs an induction window longer than the refractory period,
// which z3 did not close in minutes beyond one 4-bit lane.  The counters are
// not ports; the probes f_cnt_arr / f_cnt_ref are driven after `flatten` by
// the sby script (`connect -set`), and `check -assert` there fails the job
// if any probe is left undriven.
`default_nettype none

module lif_array_miter #(
    parameter integer N                 = 2,
    parameter integer DATA_WIDTH        = 8,
    parameter integer FRACTION          = 4,
    parameter integer V_REST            = 0,
    parameter integer V_RESET           = 0,
    parameter integer V_THRESHOLD       = (1 << FRACTION),
    parameter integer REFRACTORY_PERIOD = 2,
    parameter integer REFRACTORY_HOLD   = 0,
    parameter integer SATURATE          = 0,
    parameter integer ROUND             = 0
) (
    input wire                    clk,
    input wire                    rst_n,
    input wire [N*DATA_WIDTH-1:0] leak_k,
    input wire [N*DATA_WIDTH-1:0] gain_k,
    input wire [N*DATA_WIDTH-1:0] I_t,
    input wire [N*DATA_WIDTH-1:0] noise_in
);
    // the neuron's counter width (sc_lif_neuron's bits_for)
    function integer bits_for;
        input integer value;
        integer k;
        begin
            bits_for = 1;
            for (k = 1; k < 31; k = k + 1)
                if ((value >> k) != 0) bits_for = k + 1;
        end
    endfunction
    localparam integer CW = bits_for(REFRACTORY_PERIOD);

    wire [N-1:0]            spike_arr, spike_ref;
    wire [N*DATA_WIDTH-1:0] v_arr, v_ref;
    wire [N*CW-1:0]         f_cnt_arr, f_cnt_ref;   // driven by the sby script (see above)

    sc_lif_array #(
        .N(N), .SHARED_K(0), .DATA_WIDTH(DATA_WIDTH), .FRACTION(FRACTION), .V_REST(V_REST), .V_RESET(V_RESET),
        .V_THRESHOLD(V_THRESHOLD), .REFRACTORY_PERIOD(REFRACTORY_PERIOD), .REFRACTORY_HOLD(REFRACTORY_HOLD),
        .SATURATE(SATURATE), .ROUND(ROUND)
    ) u_array (
        .clk(clk), .rst_n(rst_n), .leak_k(leak_k), .gain_k(gain_k), .I_t(I_t), .noise_in(noise_in),
        .spike_out(spike_arr), .v_out(v_arr)
    );

    genvar i;
    generate
        for (i = 0; i < N; i = i + 1) begin : g_ref
            sc_lif_neuron #(
                .DATA_WIDTH(DATA_WIDTH), .FRACTION(FRACTION), .V_REST(V_REST), .V_RESET(V_RESET),
                .V_THRESHOLD(V_THRESHOLD), .REFRACTORY_PERIOD(REFRACTORY_PERIOD),
                .REFRACTORY_HOLD(REFRACTORY_HOLD), .SATURATE(SATURATE), .ROUND(ROUND)
            ) u_ref (
                .clk(clk), .rst_n(rst_n), .leak_k(leak_k[i*DATA_WIDTH +: DATA_WIDTH]),
                .gain_k(gain_k[i*DATA_WIDTH +: DATA_WIDTH]), .I_t(I_t[i*DATA_WIDTH +: DATA_WIDTH]),
                .noise_in(noise_in[i*DATA_WIDTH +: DATA_WIDTH]), .spike_out(spike_ref[i]),
                .v_out(v_ref[i*DATA_WIDTH +: DATA_WIDTH])
            );
        end
    endgenerate

`ifdef FORMAL
    // both sides start from reset (the registers have no initial values)
    initial assume (!rst_n);
    generate
        for (i = 0; i < N; i = i + 1) begin : g_check
            always @* begin
                assert (spike_arr[i] == spike_ref[i]);
                assert (v_arr[i*DATA_WIDTH +: DATA_WIDTH] == v_ref[i*DATA_WIDTH +: DATA_WIDTH]);
                assert (f_cnt_arr[i*CW +: CW] == f_cnt_ref[i*CW +: CW]);
            end
        end
    endgenerate
`endif
endmodule

`default_nettype wire

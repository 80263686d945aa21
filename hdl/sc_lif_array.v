// sc_lif_array -- N independent sc_lif_neuron instances sharing the Q-format and
// the constant parameters.  leak_k / gain_k are either one shared DATA_WIDTH
// word (SHARED_K = 1, the usual case: one population = one set of constants)
// or one word per neuron (SHARED_K = 0).  Neuron i uses bits
// [i*DATA_WIDTH +: DATA_WIDTH] of every packed bus.
`default_nettype none

module sc_lif_array #(
    parameter integer N                 = 4,
    parameter integer SHARED_K          = 1,
    parameter integer DATA_WIDTH        = 16,
    parameter integer FRACTION          = 8,
    parameter integer V_REST            = 0,
    parameter integer V_RESET           = 0,
    parameter integer V_THRESHOLD       = (1 << FRACTION),
    parameter integer REFRACTORY_PERIOD = 0,
    parameter integer REFRACTORY_HOLD   = 0,
    parameter integer SATURATE          = 0,
    parameter integer ROUND             = 0
) (
    input  wire                                          clk,
    input  wire                                          rst_n,
    input  wire [((SHARED_K != 0) ? 1 : N)*DATA_WIDTH-1:0]      leak_k,
    input  wire [((SHARED_K != 0) ? 1 : N)*DATA_WIDTH-1:0]      gain_k,
    input  wire [N*DATA_WIDTH-1:0]                       I_t,
    input  wire [N*DATA_WIDTH-1:0]                       noise_in,
    output wire [N-1:0]                                  spike_out,
    output wire [N*DATA_WIDTH-1:0]                       v_out
);
    genvar i;
    generate
        for (i = 0; i < N; i = i + 1) begin : g_neuron
            localparam integer KI = (SHARED_K != 0) ? 0 : i;
            sc_lif_neuron #(
                .DATA_WIDTH(DATA_WIDTH), .FRACTION(FRACTION), .V_REST(V_REST), .V_RESET(V_RESET),
                .V_THRESHOLD(V_THRESHOLD), .REFRACTORY_PERIOD(REFRACTORY_PERIOD),
        .REFRACTORY_HOLD(REFRACTORY_HOLD), .SATURATE(SATURATE), .ROUND(ROUND)
            ) u_neuron (
                .clk(clk), .rst_n(rst_n),
                .leak_k(leak_k[KI*DATA_WIDTH +: DATA_WIDTH]),
                .gain_k(gain_k[KI*DATA_WIDTH +: DATA_WIDTH]),
                .I_t(I_t[i*DATA_WIDTH +: DATA_WIDTH]),
                .noise_in(noise_in[i*DATA_WIDTH +: DATA_WIDTH]),
                .spike_out(spike_out[i]),
                .v_out(v_out[i*DATA_WIDTH +: DATA_WIDTH])
            );
        end
    endgenerate
endmodule

`default_nettype wire

// tb_network2 -- a two-population feed-forward network in RTL, generated from
// an engine network by engine.hardware.export.
//
//   population A (sc_lif_array, N_A neurons): I_t = external stimulus codes
//   population B (sc_lif_layer, N_B neurons): I_t = sat(ext_B + sum_i spike_A[i]*W[i][j]),
//   or through a synaptic-current register when B_USE_SYN = 1 (projections with tau_syn)
//
// B sees A's *registered* spikes, i.e. those of the previous cycle: exactly the
// engine's previous-step spike semantics.  All sizes, Q-format and neuron
// constants come from network_params.vh (`include, written by the export);
// STIM_FILE holds one {ext_B, ext_A} word per cycle, WEIGHT_FILE the A->B
// weights, CONST_FILE the run-time constants.  Each cycle writes "<spikes_A bin> <spikes_B bin> <v_A hex> <v_B hex>".
`timescale 1ns/1ps
`default_nettype none

module tb_network2;
`include "network_params.vh"
    // Fault injection for the co-simulation's self-test: a non-zero value
    // shifts B's threshold in the RTL only, which the comparison must catch.
    parameter integer FAULT_B_THRESHOLD_DELTA = 0;

    localparam integer SW = (N_A + N_B) * DATA_WIDTH;

    reg                         clk = 1'b0;
    reg                         rst_n = 1'b0;
    reg  [N_A*DATA_WIDTH-1:0]   ext_a = 0;
    reg  [N_B*DATA_WIDTH-1:0]   ext_b = 0;
    wire [N_A-1:0]              spikes_a;
    wire [N_B-1:0]              spikes_b;
    wire [N_A*DATA_WIDTH-1:0]   v_a;
    wire [N_B*DATA_WIDTH-1:0]   v_b;
    // A's leak/gain are run-time inputs of sc_lif_array: drive them from the
    // exported constants memory (2 words per population: leak_k, gain_k) the
    // way a register file would, so that export path is co-simulated too.
    reg  [DATA_WIDTH-1:0] consts [0:2*N_POPS-1];
    wire [DATA_WIDTH-1:0] a_leak = consts[2*A_INDEX];
    wire [DATA_WIDTH-1:0] a_gain = consts[2*A_INDEX + 1];

    reg [SW-1:0] stim [0:NCYC-1];
    integer c, fd;

    sc_lif_array #(
        .N(N_A), .SHARED_K(1), .DATA_WIDTH(DATA_WIDTH), .FRACTION(FRACTION), .V_REST(A_V_REST),
        .V_RESET(A_V_RESET), .V_THRESHOLD(A_V_THRESHOLD), .REFRACTORY_PERIOD(A_REFRACTORY_PERIOD),
        .REFRACTORY_HOLD(A_REFRACTORY_HOLD), .SATURATE(A_SATURATE), .ROUND(A_ROUND)
    ) pop_a (
        .clk(clk), .rst_n(rst_n), .leak_k(a_leak), .gain_k(a_gain), .I_t(ext_a),
        .noise_in({N_A*DATA_WIDTH{1'b0}}), .spike_out(spikes_a), .v_out(v_a)
    );

    sc_lif_layer #(
        .N_IN(N_A), .N_OUT(N_B), .DATA_WIDTH(DATA_WIDTH), .FRACTION(FRACTION), .V_REST(B_V_REST),
        .V_RESET(B_V_RESET), .V_THRESHOLD(B_V_THRESHOLD + FAULT_B_THRESHOLD_DELTA), .REFRACTORY_PERIOD(B_REFRACTORY_PERIOD),
        .REFRACTORY_HOLD(B_REFRACTORY_HOLD), .SATURATE(B_SATURATE), .ROUND(B_ROUND),
        .LEAK_K(B_LEAK_K), .GAIN_K(B_GAIN_K), .USE_SYN(B_USE_SYN), .SYN_K(B_SYN_K),
        .WEIGHT_FILE(WEIGHT_FILE)
    ) pop_b (
        .clk(clk), .rst_n(rst_n), .in_spikes(spikes_a), .ext_in(ext_b),
        .noise_in({N_B*DATA_WIDTH{1'b0}}), .spike_out(spikes_b), .v_out(v_b)
    );

    initial begin
        $readmemh(STIM_FILE, stim);
        $readmemh(CONST_FILE, consts);
        fd = $fopen(OUT_FILE, "w");
        #2 rst_n = 1'b1;
        for (c = 0; c < NCYC; c = c + 1) begin
            {ext_b, ext_a} = stim[c];
            #5 clk = 1'b1;
            #1 $fwrite(fd, "%b %b %h %h\n", spikes_a, spikes_b, v_a, v_b);
            #4 clk = 1'b0;
        end
        $fclose(fd);
        $finish;
    end
endmodule

`default_nettype wire

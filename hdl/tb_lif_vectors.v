// tb_lif_vectors -- bulk, file-driven bench for one sc_lif_neuron.
//
// Reads NCYC stimulus words from VEC_FILE ($readmemh), one per clock cycle:
//     {rst_n, leak_k, gain_k, I_t, noise_in}   (1 + 4*DATA_WIDTH bits)
// and writes one line per cycle to OUT_FILE: "<spike_out> <v_out as hex>",
// sampled just after the rising edge.  Inputs change at the falling edge, so
// a vector with rst_n = 0 resets the neuron asynchronously for that cycle.
// No per-cycle Python round trip: 10^4..10^5 cycles simulate in well under a
// second, and engine.hardware.cosim compares the whole trace at once.
`timescale 1ns/1ps
`default_nettype none

module tb_lif_vectors;
    parameter integer DATA_WIDTH        = 16;
    parameter integer FRACTION          = 8;
    parameter integer V_REST            = 0;
    parameter integer V_RESET           = 0;
    parameter integer V_THRESHOLD       = (1 << FRACTION);
    parameter integer REFRACTORY_PERIOD = 0;
    parameter integer REFRACTORY_HOLD   = 0;
    parameter integer SATURATE          = 0;
    parameter integer ROUND             = 0;
    parameter integer NCYC              = 16;
    parameter         VEC_FILE          = "vectors.mem";
    parameter         OUT_FILE          = "outputs.txt";

    localparam integer VW = 1 + 4 * DATA_WIDTH;

    reg                          clk = 1'b0;
    reg                          rst_n = 1'b0;
    reg  signed [DATA_WIDTH-1:0] leak_k = 0, gain_k = 0, I_t = 0, noise_in = 0;
    wire                         spike_out;
    wire signed [DATA_WIDTH-1:0] v_out;

    reg [VW-1:0] vectors [0:NCYC-1];
    integer c, fd;

    sc_lif_neuron #(
        .DATA_WIDTH(DATA_WIDTH), .FRACTION(FRACTION), .V_REST(V_REST), .V_RESET(V_RESET),
        .V_THRESHOLD(V_THRESHOLD), .REFRACTORY_PERIOD(REFRACTORY_PERIOD),
        .REFRACTORY_HOLD(REFRACTORY_HOLD), .SATURATE(SATURATE), .ROUND(ROUND)
    ) dut (
        .clk(clk), .rst_n(rst_n), .leak_k(leak_k), .gain_k(gain_k), .I_t(I_t),
        .noise_in(noise_in), .spike_out(spike_out), .v_out(v_out)
    );

    initial begin
        $readmemh(VEC_FILE, vectors);
        fd = $fopen(OUT_FILE, "w");
        if (fd == 0) begin
            $display("ERROR: cannot open %s", OUT_FILE);
            $finish;
        end
        #2 rst_n = 1'b1;       // power-on reset pulse before the first cycle
        for (c = 0; c < NCYC; c = c + 1) begin
            {rst_n, leak_k, gain_k, I_t, noise_in} = vectors[c];
            #5 clk = 1'b1;
            #1 $fwrite(fd, "%0d %h\n", spike_out, v_out);
            #4 clk = 1'b0;
        end
        $fclose(fd);
        $finish;
    end
endmodule

`default_nettype wire

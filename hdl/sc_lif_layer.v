// sc_lif_layer -- a population of N_OUT fixed-point LIF neurons fed by a dense
// weight matrix from N_IN presynaptic spike lines.
//
// Each cycle (combinationally, before the clock edge), with
// arr[j] = sum_i in_spikes[i] * W[i][j] (exact):
//   USE_SYN = 0 (instantaneous synapses):
//     I_t[j]   = sat(ext_in[j] + arr[j])
//   USE_SYN = 1 (exponential synaptic current, one DATA_WIDTH register per neuron):
//     syn'[j]  = sat(((syn[j] * SYN_K) >>> FRACTION) + arr[j]);  syn[j] <= syn'[j] at the edge
//     I_t[j]   = sat(ext_in[j] + syn'[j])
// where sat() clips to the signed DATA_WIDTH range and SYN_K = round(exp(-dt/tau_syn) * 2^FRACTION);
// the clock edge steps every neuron.  Feeding in_spikes from another
// layer's registered spike_out gives the engine's previous-step spike
// semantics for free: the spikes seen at edge t are those of edge t-1.
//
// The weight memory is loaded with $readmemh from WEIGHT_FILE: one
// DATA_WIDTH-bit two's-complement hex word per line, entry i*N_OUT + j being
// the weight from input i to neuron j (absent connections are 0).  The
// engine's engine.hardware.export writes these files.
`default_nettype none

module sc_lif_layer #(
    parameter integer N_IN              = 2,
    parameter integer N_OUT             = 2,
    parameter integer DATA_WIDTH        = 16,
    parameter integer FRACTION          = 8,
    parameter integer V_REST            = 0,
    parameter integer V_RESET           = 0,
    parameter integer V_THRESHOLD       = (1 << FRACTION),
    parameter integer REFRACTORY_PERIOD = 0,
    parameter integer REFRACTORY_HOLD   = 0,
    parameter integer SATURATE          = 0,
    parameter integer ROUND             = 0,
    parameter integer LEAK_K            = 16,
    parameter integer GAIN_K            = (1 << FRACTION),
    parameter integer USE_SYN           = 0,
    parameter integer SYN_K             = 0,
    parameter         WEIGHT_FILE       = "weights.mem"
) (
    input  wire                          clk,
    input  wire                          rst_n,
    input  wire [N_IN-1:0]               in_spikes,
    input  wire [N_OUT*DATA_WIDTH-1:0]   ext_in,
    input  wire [N_OUT*DATA_WIDTH-1:0]   noise_in,
    output wire [N_OUT-1:0]              spike_out,
    output wire [N_OUT*DATA_WIDTH-1:0]   v_out
);
    function integer bits_for;
        input integer value;
        integer k;
        begin
            bits_for = 1;
            for (k = 1; k < 31; k = k + 1)
                if ((value >> k) != 0) bits_for = k + 1;
        end
    endfunction
    // N_IN + 1 addends of DATA_WIDTH bits, or the decayed synaptic product
    // (2*DATA_WIDTH bits) plus N_IN weights, never overflow this accumulator
    localparam integer ACC_W = 2 * DATA_WIDTH + bits_for(N_IN + 1) + 1;
    localparam signed [ACC_W-1:0] SAT_MAX = (1 <<< (DATA_WIDTH - 1)) - 1;
    localparam signed [ACC_W-1:0] SAT_MIN = -(1 <<< (DATA_WIDTH - 1));
    localparam [DATA_WIDTH-1:0]   SYN_C   = SYN_K[DATA_WIDTH-1:0];

    reg [DATA_WIDTH-1:0] weights [0:N_IN*N_OUT-1];
    initial $readmemh(WEIGHT_FILE, weights);

    reg [N_OUT*DATA_WIDTH-1:0] syn_q;      // synaptic-current registers (USE_SYN = 1)

    function [DATA_WIDTH-1:0] sat;
        input signed [ACC_W-1:0] x;
        begin
            if (x > SAT_MAX)      sat = SAT_MAX[DATA_WIDTH-1:0];
            else if (x < SAT_MIN) sat = SAT_MIN[DATA_WIDTH-1:0];
            else                  sat = x[DATA_WIDTH-1:0];
        end
    endfunction

    function signed [ACC_W-1:0] sx;       // sign-extend a DATA_WIDTH word
        input [DATA_WIDTH-1:0] w;
        begin
            sx = {{(ACC_W-DATA_WIDTH){w[DATA_WIDTH-1]}}, w};
        end
    endfunction

    reg signed [ACC_W-1:0]      arr;
    reg signed [ACC_W-1:0]      prod;
    reg        [DATA_WIDTH-1:0] syn_w;
    reg        [N_OUT*DATA_WIDTH-1:0] current;
    reg        [N_OUT*DATA_WIDTH-1:0] syn_d;
    integer i, j;
    always @* begin
        current = {N_OUT*DATA_WIDTH{1'b0}};
        syn_d   = {N_OUT*DATA_WIDTH{1'b0}};
        for (j = 0; j < N_OUT; j = j + 1) begin
            arr = {ACC_W{1'b0}};
            for (i = 0; i < N_IN; i = i + 1)
                if (in_spikes[i])
                    arr = arr + sx(weights[i*N_OUT + j]);
            if (USE_SYN != 0) begin
                prod  = (sx(syn_q[j*DATA_WIDTH +: DATA_WIDTH]) * sx(SYN_C)) >>> FRACTION;
                syn_w = sat(prod + arr);
                syn_d[j*DATA_WIDTH +: DATA_WIDTH] = syn_w;
                current[j*DATA_WIDTH +: DATA_WIDTH] = sat(sx(ext_in[j*DATA_WIDTH +: DATA_WIDTH]) + sx(syn_w));
            end else begin
                current[j*DATA_WIDTH +: DATA_WIDTH] = sat(sx(ext_in[j*DATA_WIDTH +: DATA_WIDTH]) + arr);
            end
        end
    end

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) syn_q <= {N_OUT*DATA_WIDTH{1'b0}};
        else        syn_q <= syn_d;
    end

    localparam [DATA_WIDTH-1:0] LEAK_C = LEAK_K[DATA_WIDTH-1:0];
    localparam [DATA_WIDTH-1:0] GAIN_C = GAIN_K[DATA_WIDTH-1:0];

    sc_lif_array #(
        .N(N_OUT), .SHARED_K(1), .DATA_WIDTH(DATA_WIDTH), .FRACTION(FRACTION), .V_REST(V_REST),
        .V_RESET(V_RESET), .V_THRESHOLD(V_THRESHOLD), .REFRACTORY_PERIOD(REFRACTORY_PERIOD),
        .REFRACTORY_HOLD(REFRACTORY_HOLD), .SATURATE(SATURATE), .ROUND(ROUND)
    ) u_array (
        .clk(clk), .rst_n(rst_n), .leak_k(LEAK_C), .gain_k(GAIN_C), .I_t(current),
        .noise_in(noise_in), .spike_out(spike_out), .v_out(v_out)
    );
endmodule

`default_nettype wire

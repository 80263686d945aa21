// sc_lif_neuron -- fixed-point leaky integrate-and-fire neuron (Verilog-2001).
//
// One rising clock edge is exactly one engine FixedPointLIFNeuron.step():
//   refractory: counter -= 1, v = HOLD, spike = 0
//   otherwise : dv_leak = ((V_REST - v) * leak_k + R) >>> FRACTION   (2*DATA_WIDTH-bit product)
//               dv_in   = (I_t * gain_k + R)       >>> FRACTION
//               v_next  = v + dv_leak + dv_in + noise_in, wrapped mod 2**DATA_WIDTH
//                         (SATURATE = 0) or clipped to the signed range (SATURATE = 1)
//               spike when v_next >= V_THRESHOLD (signed), then v = V_RESET and
//               the counter loads REFRACTORY_PERIOD.
// Options (defaults = the reference hardware):
//   REFRACTORY_HOLD 0: HOLD = V_REST;  1: HOLD = V_RESET (Lapicque-style models)
//   SATURATE        0: wrap-around;    1: saturating membrane sum
//   ROUND           0: R = 0 (floor);  1: R = 2**(FRACTION-1), round half up (FRACTION > 0)
// rst_n is asynchronous and active low: v = v_out = V_REST, spike and counter 0.
// v_out is the membrane register itself, so it is registered by construction.
`default_nettype none

module sc_lif_neuron #(
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
    input  wire                         clk,
    input  wire                         rst_n,
    input  wire signed [DATA_WIDTH-1:0] leak_k,
    input  wire signed [DATA_WIDTH-1:0] gain_k,
    input  wire signed [DATA_WIDTH-1:0] I_t,
    input  wire signed [DATA_WIDTH-1:0] noise_in,
    output reg                          spike_out,
    output reg  signed [DATA_WIDTH-1:0] v_out
);
    localparam integer PW = 2 * DATA_WIDTH;   // product width

    // counter wide enough for REFRACTORY_PERIOD (at least one bit)
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

    // constants truncated to their register widths once
    localparam [DATA_WIDTH-1:0] REST_C   = V_REST[DATA_WIDTH-1:0];
    localparam [DATA_WIDTH-1:0] RESET_C  = V_RESET[DATA_WIDTH-1:0];
    localparam [DATA_WIDTH-1:0] THRESH_C = V_THRESHOLD[DATA_WIDTH-1:0];
    localparam [CW-1:0]         REFR_C   = REFRACTORY_PERIOD[CW-1:0];
    localparam [DATA_WIDTH-1:0] HOLD_C   = (REFRACTORY_HOLD != 0) ? RESET_C : REST_C;
    // rounding bias; it cannot overflow the product width since FRACTION < DATA_WIDTH
    localparam integer          SW       = PW + 2;   // the exact membrane sum
    localparam [PW-1:0]         ONE_P    = {{(PW-1){1'b0}}, 1'b1};
    localparam [SW-1:0]         ONE_S    = {{(SW-1){1'b0}}, 1'b1};
    localparam signed [PW-1:0]  BIAS     = (ROUND != 0 && FRACTION > 0)
                                           ? (ONE_P << ((FRACTION > 0) ? FRACTION - 1 : 0)) : {PW{1'b0}};
    localparam signed [SW-1:0]  SAT_MAX  = (ONE_S << (DATA_WIDTH - 1)) - ONE_S;
    localparam signed [SW-1:0]  SAT_MIN  = ~SAT_MAX;

    reg  [CW-1:0] counter;

    // sign-extend every operand to the product width before multiplying so the
    // products are exact 2*DATA_WIDTH-bit signed values (|(rest-v)*leak| < 2**(2W-1))
    wire signed [PW-1:0] rest_x  = {{DATA_WIDTH{REST_C[DATA_WIDTH-1]}}, REST_C};
    wire signed [PW-1:0] v_x     = {{DATA_WIDTH{v_out[DATA_WIDTH-1]}}, v_out};
    wire signed [PW-1:0] leak_x  = {{DATA_WIDTH{leak_k[DATA_WIDTH-1]}}, leak_k};
    wire signed [PW-1:0] gain_x  = {{DATA_WIDTH{gain_k[DATA_WIDTH-1]}}, gain_k};
    wire signed [PW-1:0] i_x     = {{DATA_WIDTH{I_t[DATA_WIDTH-1]}}, I_t};
    wire signed [PW-1:0] diff    = rest_x - v_x;
    wire signed [PW-1:0] p_leak  = diff * leak_x;
    wire signed [PW-1:0] p_in    = i_x * gain_x;
    wire signed [PW-1:0] dv_leak = (p_leak + BIAS) >>> FRACTION;
    wire signed [PW-1:0] dv_in   = (p_in + BIAS) >>> FRACTION;
    // The exact sum; when wrapping, its upper bits are unused and synthesis
    // removes them (only the low DATA_WIDTH bits survive: the wrap-around).
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [SW-1:0] v_sum   = {{2{v_x[PW-1]}}, v_x} + {{2{dv_leak[PW-1]}}, dv_leak}
                                 + {{2{dv_in[PW-1]}}, dv_in}
                                 + {{(SW-DATA_WIDTH){noise_in[DATA_WIDTH-1]}}, noise_in};
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [DATA_WIDTH-1:0] v_sat  = (v_sum > SAT_MAX) ? SAT_MAX[DATA_WIDTH-1:0]
                                        : (v_sum < SAT_MIN) ? SAT_MIN[DATA_WIDTH-1:0] : v_sum[DATA_WIDTH-1:0];
    wire signed [DATA_WIDTH-1:0] v_next = (SATURATE != 0) ? v_sat : v_sum[DATA_WIDTH-1:0];
    wire fire = (v_next >= $signed(THRESH_C));

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            v_out     <= REST_C;
            spike_out <= 1'b0;
            counter   <= {CW{1'b0}};
        end else if (counter != {CW{1'b0}}) begin
            counter   <= counter - 1'b1;
            v_out     <= HOLD_C;
            spike_out <= 1'b0;
        end else if (fire) begin
            v_out     <= RESET_C;
            spike_out <= 1'b1;
            counter   <= REFR_C;
        end else begin
            v_out     <= v_next;
            spike_out <= 1'b0;
        end
    end

`ifdef FORMAL
`ifndef LIF_MITER
    // Properties proved by SymbiYosys (hdl/formal/, tests/hdl/test_formal.py).
    // The reset is asynchronous; sby's async2sync makes it act within the cycle.
    reg f_past_valid = 1'b0;
    always @(posedge clk) f_past_valid <= 1'b1;
    initial assume (!rst_n);   // the registers have no initial value: start from reset

    always @* begin
        assert (counter <= REFR_C);                         // never beyond the period
        if (!rst_n) assert (v_out == REST_C && !spike_out && counter == {CW{1'b0}});
    end

    always @(posedge clk) begin
        if (f_past_valid && $past(rst_n) && rst_n) begin
            if ($past(counter) != {CW{1'b0}}) begin      // refractory: count down, hold, no spike
                assert (counter == $past(counter) - 1'b1);
                assert (v_out == HOLD_C);
                assert (!spike_out);
            end
            // a spike only from v_next >= V_THRESHOLD outside refractoriness ...
            if (spike_out) assert ($past(counter) == {CW{1'b0}} && $past(v_next) >= $signed(THRESH_C));
            // ... and then always, with the reset value and a loaded counter
            // (written from the specification, not from the `fire` wire)
            if ($past(counter) == {CW{1'b0}} && $past(v_next >= $signed(THRESH_C)))
                assert (spike_out && v_out == RESET_C && counter == REFR_C);
            if ($past(counter) == {CW{1'b0}} && !$past(v_next >= $signed(THRESH_C)))
                assert (!spike_out && v_out == $past(v_next));
        end
    end
`endif
`endif
endmodule

`default_nettype wire

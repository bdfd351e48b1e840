#pragma once
// The up-convolutional decoders of Dosovitskiy & Brox (seed 002 sect. 3, seed 003 Tables 2-6) as data: one table
// per network, row for row as printed in the paper (layers/decoder_tables.cpp), and their runner on the tape.
//
//   hog            seed 003 Table 2: HOG (31 x S/8 x S/8) -> image S x S; streams A (compress to 1/8, expand back)
//                  and B (full resolution) joined ("J") by channel concatenation.
//   sift           seed 003 Table 3: sparse SIFT grid (133 x S/4 x S/4) -> S x S.
//   dsift          Table 3's network on dense SIFT (128 x S/4 x S/4 at step 4, solvers::window_features), ours.
//   lbp            seed 003 Table 4: LBP (58 x S/16 x S/16) -> S x S, two streams like hog.
//   alexnet-conv5  seed 003 Table 5: 256 x 6 x 6 -> 192 x 192.
//   alexnet-fc8    seed 003 Table 6 = seed 002 Table 1: 1000 -> fc 4096 x 3 -> reshape 256 x 4 x 4 -> 128 x 128.
//   alexnet-fc6, alexnet-fc7   seed 002 sect. 2.2 "like FC8": the same network with a 4096-wide input.
//   alexnet-conv1 ... alexnet-conv4   seed 002 sect. 2.2: three 3x3 convolutions keeping the layer's resolution,
//                  then as many 5x5 up-convolutions as the layer's stride needs (conv1 27x27, stride 8: three;
//                  conv2-4 13x13, stride 16: four), the channels of Table 5's last ones (..., 64, 32, 3). The paper
//                  gives no table for these: the channel choice is ours and says so in the table's source line.
//
// Conventions (docs/decoders.md):
//   - Leaky ReLU with slope 0.2 after every layer except the last (seed 002 sect. 2.2).
//   - conv rows: "same" padding (K-1)/2, so the output is ceil(in / S), as every row of the tables.
//   - upconv rows: x2 upsampling by zero insertion (each value in the top-left corner of its 2x2 block) followed by a
//     K x K convolution with padding (top/left P0, bottom/right K-1-P0), output exactly 2x the input (seed 002
//     sect. 2.2). That operation IS a stride-2 transposed convolution of the spatially flipped kernel: with
//     zero-insertion padding P0 the transposed convolution has padding top/left K-1-P0 and bottom/right
//     K-2-(K-1-P0) = P0-1 (derivation in docs/decoders.md; tests/test_decoders.cpp checks it numerically). We
//     pick P0 = K/2 (K=4: 2/1, the transposed convolution's symmetric padding 1 that the authors' later
//     generators use; K=5: 2/2, transposed padding 2 top/left and 1 bottom/right) and run the existing
//     conv_transpose2d kernels, storing the weights in its layout [in, out, K, K] (the flip is a
//     reparametrisation of learned weights).
//   - fc rows act on the flattened input [N, C*H*W]; reshape rows give [N, C, side, side].
//   - width W scales every channel count except the features' and the image's (3): round(C * W), at least 1.
//     The spatial sizes follow the input: a table is valid for any input size at which the two streams meet
//     (hog: image size a multiple of 64), and output_shapes() says which size fails where.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/tape.h"
#include "kernels/conv_transpose2d.h"

namespace preimage::layers {

enum class DecoderLayerKind { conv, upconv, fc, reshape };
const char* decoder_layer_kind_name(DecoderLayerKind k);

struct DecoderRow {
  std::string name;                 // as printed: convA1, upconvJ4, fc1
  DecoderLayerKind kind = DecoderLayerKind::conv;
  std::vector<std::string> inputs;  // "input" (the features) or earlier rows; two rows are concatenated (the "J")
  int kernel = 1, stride = 1;       // conv/upconv
  int64_t out_channels = 0;         // at width 1; conv/upconv channels, fc outputs, reshape channels
  int64_t reshape_side = 0;         // reshape: [N, out_channels, side, side]
  bool is_output = false;           // the image: 3 channels, never scaled, no activation
};

struct DecoderTable {
  std::string name;                 // hog, sift, lbp, alexnet-conv5, ...
  std::string source;               // where the table is printed ("seed 003 Table 2")
  int64_t in_channels = 0;          // feature channels (31 for HOG), or fc input width
  int64_t paper_input_side = 0;     // the input's spatial size in the paper (32 for HOG); 0 for fc inputs
  int64_t paper_output_side = 0;    // the image size it produces in the paper (256 for HOG)
  std::vector<DecoderRow> rows;     // in execution order; the last row is the output
};

const std::vector<std::string>& decoder_table_names();
// Throws preimage::Error listing the known tables.
DecoderTable decoder_table(const std::string& name);
// The table for features with `in_channels` channels: the AlexNet tables take the channels of the network they
// decode (reduced random networks have narrower fc layers); the shallow tables keep theirs (a mismatch is
// reported by decoder_output_shapes).
DecoderTable decoder_table(const std::string& name, int64_t in_channels);
// The decoder table that inverts a shallow representation (hog, hogb -> hog; sift-grid -> sift; dsift; lbp).
std::string decoder_table_for_representation(const std::string& rep);

// Channel count of a row at a width (the output row keeps 3).
int64_t scaled_channels(const DecoderRow& row, double width);

// One shape per row for an input of shape [N, C, H, W] (or [N, C] / [N, C, 1, 1] for fc tables) at `width`.
// Throws preimage::Error naming the row when the input does not fit (wrong channel count, streams that do not
// meet, a size that vanishes).
std::vector<Shape> decoder_output_shapes(const DecoderTable& table, double width, const Shape& input);

// A decoder: its table, width, the input shape it was built for ([C, H, W], or [C] for fc tables) and its
// parameters "<row>.weight" / "<row>.bias":
//   conv   weight [out, in, K, K]        upconv weight [in, out, K, K] (conv_transpose2d layout)
//   fc     weight [out, in]              bias [out] for all three
class Decoder {
 public:
  Decoder() = default;
  Decoder(DecoderTable table, double width, const Shape& input);  // parameters zero; init_he() fills them

  const DecoderTable& table() const { return table_; }
  double width() const { return width_; }
  const Shape& input_shape() const { return input_; }  // without the batch dimension
  // Features are multiplied by this before the first layer (1 unless set): network decoders set it to 1 / RMS of
  // the training features, so that He-initialised layers see unit-scale inputs (a random AlexNet's block outputs
  // are in the hundreds). Stored in decoder files and checkpoints.
  float input_scale() const { return input_scale_; }
  void set_input_scale(float s);
  Shape output_shape(int64_t batch) const;             // [batch, 3, H, W]

  // Parameter names in a fixed order (row order, weight before bias) with their expected shapes.
  const std::vector<std::pair<std::string, Shape>>& parameter_shapes() const { return shapes_; }
  std::vector<Tensor>& parameters() { return params_; }  // same order as parameter_shapes()
  const std::vector<Tensor>& parameters() const { return params_; }
  int64_t parameter_count() const;

  // He/MSRA initialisation for leaky ReLU(0.2) (He et al. 2015 eq. 10): weights N(0, 2 / ((1 + a^2) fan_in)),
  // fan_in = in K^2 for conv, in K^2 / 4 for upconv (zero insertion leaves a quarter of each kernel's taps on
  // data), in for fc; biases 0. Parameter p draws from Philox(seed, stream p), so the result does not depend on
  // threads or device.
  void init_he(uint64_t seed);

  // Binds the parameters as tape leaves (requires_grad as given), in parameters() order.
  std::vector<Var> bind(Tape& t, bool requires_grad) const;
  // features [N, C, H, W] (fc tables: [N, C] or [N, C, 1, 1]) -> image [N, 3, H', W'] (the decoder's target
  // scale, see solvers/decoder_trainer.h). `params` from bind().
  Var forward(Tape& t, const std::vector<Var>& params, Var features) const;

  void to(Device device);

 private:
  DecoderTable table_;
  double width_ = 1.0;
  float input_scale_ = 1.0f;
  Shape input_;
  std::vector<std::pair<std::string, Shape>> shapes_;
  std::vector<Tensor> params_;
};

// The zero-insertion padding P0 of an up-convolution row (top/left; bottom/right K-1-P0), and the stride-2
// conv_transpose2d parameters that compute the same map with the flipped kernel (header comment).
int upconv_zero_insertion_pad(int kernel);
kernels::ConvTranspose2dParams upconv_transpose_params(int kernel);

}  // namespace preimage::layers

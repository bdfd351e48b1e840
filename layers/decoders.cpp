// Shapes, parameters, He initialisation and the tape runner of the decoder tables (layers/decoders.h).
#include "layers/decoders.h"

#include <cmath>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/rng.h"

namespace preimage::layers {
namespace {

constexpr float kLeakySlope = 0.2f;  // seed 002 sect. 2.2

int64_t row_index(const DecoderTable& t, const std::string& name) {
  for (size_t i = 0; i < t.rows.size(); ++i)
    if (t.rows[i].name == name) return static_cast<int64_t>(i);
  return -1;
}

bool is_fc_table(const DecoderTable& t) { return !t.rows.empty() && t.rows[0].kind == DecoderLayerKind::fc; }

// "same" padding of a conv row: output ceil(in / S) for odd K.
kernels::Conv2dParams conv_params(const DecoderRow& r) {
  return kernels::Conv2dParams::symmetric(r.stride, (r.kernel - 1) / 2);
}

// The transposed convolution equal to zero insertion + K x K convolution with padding (P0, K-1-P0):
// top/left K-1-P0, bottom/right P0-1, stride 2, output 2x the input (layers/decoders.h).
kernels::ConvTranspose2dParams upconv_params(const DecoderRow& r) { return upconv_transpose_params(r.kernel); }

// The fc row that feeds a reshape row gets exactly the reshape's element count, so a width that does not divide
// evenly still gives a consistent pair.
int64_t fc_outputs(const DecoderTable& t, size_t i, double width) {
  for (size_t j = i + 1; j < t.rows.size(); ++j)
    if (t.rows[j].kind == DecoderLayerKind::reshape && t.rows[j].inputs[0] == t.rows[i].name)
      return scaled_channels(t.rows[j], width) * t.rows[j].reshape_side * t.rows[j].reshape_side;
  return scaled_channels(t.rows[i], width);
}

}  // namespace

const char* decoder_layer_kind_name(DecoderLayerKind k) {
  switch (k) {
    case DecoderLayerKind::conv: return "conv";
    case DecoderLayerKind::upconv: return "upconv";
    case DecoderLayerKind::fc: return "fc";
    case DecoderLayerKind::reshape: return "reshape";
  }
  return "?";
}

int upconv_zero_insertion_pad(int kernel) {
  PI_CHECK(kernel >= 2, "up-convolution kernel must be at least 2, got ", kernel);
  return kernel / 2;
}

kernels::ConvTranspose2dParams upconv_transpose_params(int kernel) {
  const int p0 = upconv_zero_insertion_pad(kernel);
  kernels::ConvTranspose2dParams p;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = kernel - 1 - p0;
  p.pad_bottom = p.pad_right = p0 - 1;
  return p;
}

int64_t scaled_channels(const DecoderRow& row, double width) {
  if (row.is_output) return 3;
  return std::max<int64_t>(1, static_cast<int64_t>(std::llround(static_cast<double>(row.out_channels) * width)));
}

std::vector<Shape> decoder_output_shapes(const DecoderTable& t, double width, const Shape& input) {
  PI_CHECK(std::isfinite(width) && width > 0 && width <= 4, "decoder width must be in (0, 4], got ", width);
  const bool fc_in = is_fc_table(t);
  const int64_t n = input.ndim() > 0 ? input[0] : 0;
  if (fc_in) {
    const bool ok = (input.ndim() == 2) || (input.ndim() == 4 && input[2] == 1 && input[3] == 1);
    PI_CHECK(ok && input[1] == t.in_channels, "decoder ", t.name, " takes [N, ", t.in_channels, "] features, got ",
             input.str());
  } else {
    PI_CHECK(input.ndim() == 4 && input[1] == t.in_channels, "decoder ", t.name, " takes [N, ", t.in_channels,
             ", H, W] features, got ", input.str());
  }
  std::vector<Shape> out;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const DecoderRow& r = t.rows[i];
    std::vector<Shape> ins;
    for (const std::string& name : r.inputs) {
      if (name == "input") {
        ins.push_back(input);
      } else {
        const int64_t j = row_index(t, name);
        PI_CHECK(j >= 0 && j < static_cast<int64_t>(i), "decoder ", t.name, ": row ", r.name, " reads ", name,
                 ", which is not an earlier row");
        ins.push_back(out[static_cast<size_t>(j)]);
      }
    }
    Shape in = ins[0];
    if (ins.size() > 1) {
      // The join: channels add up, spatial sizes must agree.
      for (size_t k = 1; k < ins.size(); ++k) {
        PI_CHECK(ins[k].ndim() == 4 && in.ndim() == 4 && ins[k][2] == in[2] && ins[k][3] == in[3], "decoder ",
                 t.name, ": row ", r.name, " joins ", r.inputs[0], " ", in.str(), " and ", r.inputs[k], " ",
                 ins[k].str(), ", whose spatial sizes differ; the input size must make the streams meet (hog: "
                 "features of a multiple of 8 cells, i.e. images a multiple of 64 pixels)");
        in[1] += ins[k][1];
      }
    }
    switch (r.kind) {
      case DecoderLayerKind::conv: {
        PI_CHECK(in.ndim() == 4, "decoder ", t.name, ": conv row ", r.name, " needs a 4-d input, got ", in.str());
        const int p = (r.kernel - 1) / 2;
        const int64_t h = (in[2] + 2 * p - r.kernel) / r.stride + 1, w = (in[3] + 2 * p - r.kernel) / r.stride + 1;
        PI_CHECK(in[2] + 2 * p >= r.kernel && in[3] + 2 * p >= r.kernel, "decoder ", t.name, ": row ", r.name,
                 " gets a ", in[2], "x", in[3], " map, too small for its ", r.kernel, "x", r.kernel, " kernel");
        out.push_back(Shape{n, scaled_channels(r, width), h, w});
        break;
      }
      case DecoderLayerKind::upconv:
        PI_CHECK(in.ndim() == 4, "decoder ", t.name, ": upconv row ", r.name, " needs a 4-d input, got ", in.str());
        out.push_back(Shape{n, scaled_channels(r, width), 2 * in[2], 2 * in[3]});
        break;
      case DecoderLayerKind::fc:
        out.push_back(Shape{n, fc_outputs(t, i, width)});
        break;
      case DecoderLayerKind::reshape: {
        const int64_t c = scaled_channels(r, width);
        PI_CHECK(in.numel() == n * c * r.reshape_side * r.reshape_side, "decoder ", t.name, ": reshape ", r.name,
                 " of ", in.str(), " to ", c, "x", r.reshape_side, "x", r.reshape_side);
        out.push_back(Shape{n, c, r.reshape_side, r.reshape_side});
        break;
      }
    }
  }
  return out;
}

Decoder::Decoder(DecoderTable table, double width, const Shape& input)
    : table_(std::move(table)), width_(width), input_(input) {
  Shape batched;
  if (input.ndim() == 1) batched = Shape{1, input[0]};
  else if (input.ndim() == 3) batched = Shape{1, input[0], input[1], input[2]};
  else fail("decoder ", table_.name, ": input shape must be [C] or [C, H, W], got ", input.str());
  const std::vector<Shape> shapes = decoder_output_shapes(table_, width_, batched);
  for (size_t i = 0; i < table_.rows.size(); ++i) {
    const DecoderRow& r = table_.rows[i];
    if (r.kind == DecoderLayerKind::reshape) continue;
    int64_t in_c = 0;
    for (const std::string& name : r.inputs) {
      if (name == "input") in_c += r.kind == DecoderLayerKind::fc ? batched.numel() : batched[1];
      else {
        const Shape& s = shapes[static_cast<size_t>(row_index(table_, name))];
        in_c += r.kind == DecoderLayerKind::fc ? s.numel() : s[1];
      }
    }
    const int64_t out_c = shapes[i][1];
    Shape w;
    if (r.kind == DecoderLayerKind::conv) w = Shape{out_c, in_c, r.kernel, r.kernel};
    else if (r.kind == DecoderLayerKind::upconv) w = Shape{in_c, out_c, r.kernel, r.kernel};
    else w = Shape{out_c, in_c};
    shapes_.emplace_back(r.name + ".weight", w);
    shapes_.emplace_back(r.name + ".bias", Shape{out_c});
  }
  for (const auto& [name, shape] : shapes_) params_.push_back(Tensor::zeros(shape));
}

Shape Decoder::output_shape(int64_t batch) const {
  Shape b = input_.ndim() == 1 ? Shape{batch, input_[0]} : Shape{batch, input_[0], input_[1], input_[2]};
  return decoder_output_shapes(table_, width_, b).back();
}

int64_t Decoder::parameter_count() const {
  int64_t n = 0;
  for (const auto& [name, shape] : shapes_) n += shape.numel();
  return n;
}

void Decoder::init_he(uint64_t seed) {
  const double a2 = double(kLeakySlope) * kLeakySlope;
  std::vector<DecoderLayerKind> kinds;  // the kind of the row each parameter belongs to
  for (const DecoderRow& r : table_.rows)
    if (r.kind != DecoderLayerKind::reshape) kinds.insert(kinds.end(), 2, r.kind);
  for (size_t p = 0; p < params_.size(); ++p) {
    Tensor& t = params_[p];
    PI_CHECK(t.device() == Device::cpu, "Decoder::init_he: parameters must be on the CPU");
    const Shape& s = t.shape();
    if (s.ndim() == 1) {
      for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = 0.0f;
      continue;
    }
    double fan_in;
    if (s.ndim() == 2) fan_in = double(s[1]);                                    // fc [out, in]
    else if (kinds[p] == DecoderLayerKind::upconv) fan_in = double(s[0]) * s[2] * s[3] / 4.0;  // [in, out, K, K]
    else fan_in = double(s[1]) * s[2] * s[3];                                     // conv [out, in, K, K]
    const float std = static_cast<float>(std::sqrt(2.0 / ((1.0 + a2) * fan_in)));
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = std * philox_normal(seed, static_cast<uint64_t>(i), p + 1);
  }
}

std::vector<Var> Decoder::bind(Tape& t, bool requires_grad) const {
  std::vector<Var> vars;
  vars.reserve(params_.size());
  for (const Tensor& p : params_) vars.push_back(t.leaf(p.view(), requires_grad));
  return vars;
}

void Decoder::set_input_scale(float s) {
  PI_CHECK(std::isfinite(s) && s > 0, "decoder input scale must be a positive finite number, got ", s);
  input_scale_ = s;
}

Var Decoder::forward(Tape& t, const std::vector<Var>& params, Var features) const {
  PI_CHECK(params.size() == params_.size(), "Decoder::forward: expected ", params_.size(), " parameters, got ",
           params.size());
  decoder_output_shapes(table_, width_, t.shape(features));  // clear errors before any kernel runs
  if (input_scale_ != 1.0f) features = ops::scale(t, features, input_scale_);
  std::vector<Var> outs(table_.rows.size());
  size_t p = 0;
  for (size_t i = 0; i < table_.rows.size(); ++i) {
    const DecoderRow& r = table_.rows[i];
    std::vector<Var> ins;
    for (const std::string& name : r.inputs)
      ins.push_back(name == "input" ? features : outs[static_cast<size_t>(row_index(table_, name))]);
    Var x = ins.size() == 1 ? ins[0] : ops::concat_channels(t, ins);
    Var y;
    switch (r.kind) {
      case DecoderLayerKind::conv: y = ops::conv2d(t, x, params[p], params[p + 1], conv_params(r)); p += 2; break;
      case DecoderLayerKind::upconv:
        y = ops::conv_transpose2d(t, x, params[p], params[p + 1], upconv_params(r));
        p += 2;
        break;
      case DecoderLayerKind::fc: y = ops::linear(t, x, params[p], params[p + 1]); p += 2; break;
      case DecoderLayerKind::reshape: {
        const int64_t c = scaled_channels(r, width_);
        outs[i] = ops::reshape(t, x, Shape{t.shape(x)[0], c, r.reshape_side, r.reshape_side});
        continue;  // no activation: a reshape is not a layer
      }
    }
    outs[i] = r.is_output ? y : ops::leaky_relu(t, y, kLeakySlope);
  }
  return outs.back();
}

void Decoder::to(Device device) {
  for (Tensor& p : params_) p = p.to(device);
}

}  // namespace preimage::layers

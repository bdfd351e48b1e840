// The decoder tables of Dosovitskiy & Brox, transcribed row for row (layers/decoders.h explains the conventions).
// Columns as in the paper: name, input(s), K, S, output channels; InSize/OutSize follow from the input and are
// checked by tests/test_decoders.cpp at the papers' sizes.
#include <algorithm>

#include "engine/error.h"
#include "layers/decoders.h"

namespace preimage::layers {
namespace {

using K = DecoderLayerKind;

DecoderRow conv(const std::string& name, const std::string& in, int k, int s, int64_t c) {
  return DecoderRow{name, K::conv, {in}, k, s, c, 0, false};
}
DecoderRow upconv(const std::string& name, const std::string& in, int k, int64_t c) {
  return DecoderRow{name, K::upconv, {in}, k, 2, c, 0, false};
}
DecoderRow join(const std::string& name, const std::string& a, const std::string& b, int k, int64_t c) {
  return DecoderRow{name, K::conv, {a, b}, k, 1, c, 0, false};
}
DecoderRow output(DecoderRow r) {
  r.is_output = true;
  r.out_channels = 3;
  return r;
}
DecoderRow fc(const std::string& name, const std::string& in, int64_t c) {
  return DecoderRow{name, K::fc, {in}, 1, 1, c, 0, false};
}
DecoderRow reshape(const std::string& name, const std::string& in, int64_t c, int64_t side) {
  return DecoderRow{name, K::reshape, {in}, 1, 1, c, side, false};
}

// seed 003 Table 2 (HOG, 256 x 256 images: HOG 32 x 32 x 31).
DecoderTable hog_table() {
  DecoderTable t{"hog", "seed 003 Table 2", 31, 32, 256, {}};
  t.rows = {conv("convA1", "input", 5, 2, 256),      conv("convA2", "convA1", 5, 2, 512),
            conv("convA3", "convA2", 3, 2, 1024),    upconv("upconvA1", "convA3", 4, 512),
            upconv("upconvA2", "upconvA1", 4, 256),  upconv("upconvA3", "upconvA2", 4, 128),
            conv("convB1", "input", 5, 1, 128),      conv("convB2", "convB1", 3, 1, 128),
            join("convJ1", "upconvA3", "convB2", 3, 256), conv("convJ2", "convJ1", 3, 1, 128),
            upconv("upconvJ4", "convJ2", 4, 64),     upconv("upconvJ5", "upconvJ4", 4, 32),
            output(upconv("upconvJ6", "upconvJ5", 4, 3))};
  return t;
}

// seed 003 Table 3 (sparse SIFT grid, 256 x 256 images: 64 x 64 x 133). The same network decodes dense SIFT
// (not in the papers): 128 descriptor channels on the S/4 x S/4 frame grid of solvers::window_features.
DecoderTable sift_table(const std::string& name = "sift", int64_t channels = 133) {
  DecoderTable t{name, name == "sift" ? "seed 003 Table 3" : "seed 003 Table 3's network on dense SIFT (not in the papers)",
                 channels, 64, 256, {}};
  t.rows = {conv("conv1", "input", 5, 2, 256),    conv("conv2", "conv1", 3, 2, 512),
            conv("conv3", "conv2", 3, 2, 1024),   conv("conv4", "conv3", 3, 2, 2048),
            conv("conv5", "conv4", 3, 1, 2048),   conv("conv6", "conv5", 3, 1, 1024),
            upconv("upconv1", "conv6", 4, 512),   upconv("upconv2", "upconv1", 4, 256),
            upconv("upconv3", "upconv2", 4, 128), upconv("upconv4", "upconv3", 4, 64),
            upconv("upconv5", "upconv4", 4, 32),  output(upconv("upconv6", "upconv5", 4, 3))};
  return t;
}

// seed 003 Table 4 (LBP, 256 x 256 images: 16 x 16 x 58).
DecoderTable lbp_table() {
  DecoderTable t{"lbp", "seed 003 Table 4", 58, 16, 256, {}};
  t.rows = {conv("convA1", "input", 5, 2, 256),      conv("convA2", "convA1", 5, 2, 512),
            conv("convA3", "convA2", 3, 1, 1024),    upconv("upconvA1", "convA3", 4, 512),
            upconv("upconvA2", "upconvA1", 4, 256),  conv("convB1", "input", 5, 1, 128),
            conv("convB2", "convB1", 3, 1, 128),     join("convJ1", "upconvA2", "convB2", 3, 256),
            conv("convJ2", "convJ1", 3, 1, 128),     upconv("upconvJ3", "convJ2", 4, 128),
            upconv("upconvJ4", "upconvJ3", 4, 64),   upconv("upconvJ5", "upconvJ4", 4, 32),
            output(upconv("upconvJ6", "upconvJ5", 4, 3))};
  return t;
}

// seed 003 Table 5 (AlexNet CONV5 = pool5, 6 x 6 x 256) and, without a table in the papers, conv1-conv4
// (seed 002 sect. 2.2: three convolutions, then as many up-convolutions as the stride needs; 5 x 5 filters in
// all (up-)convolutional layers there, 3 x 3 convolutions in Table 5, which we follow). The up-convolutions'
// channels are the last `ups` of Table 5's (256, 128, 64, 32, 3).
DecoderTable alexnet_conv_table(const std::string& layer, int64_t channels, int64_t side, int ups) {
  const bool printed = layer == "conv5";
  DecoderTable t{"alexnet-" + layer,
                 printed ? "seed 003 Table 5"
                         : "seed 002 sect. 2.2 (no table printed; Table 5's pattern, channels chosen here)",
                 channels, side, side << ups, {}};
  t.rows = {conv("conv1", "input", 3, 1, 256), conv("conv2", "conv1", 3, 1, 256), conv("conv3", "conv2", 3, 1, 256)};
  const int64_t chans[] = {256, 128, 64, 32, 3};
  std::string prev = "conv3";
  for (int i = 0; i < ups; ++i) {
    const std::string name = "upconv" + std::to_string(i + 1);
    DecoderRow r = upconv(name, prev, 5, chans[5 - ups + i]);
    t.rows.push_back(i == ups - 1 ? output(r) : r);
    prev = name;
  }
  return t;
}

// seed 003 Table 6 = seed 002 Table 1 (AlexNet FC8, 1000 values) and fc6/fc7 (4096 values, "like FC8").
DecoderTable alexnet_fc_table(const std::string& layer, int64_t inputs) {
  DecoderTable t{"alexnet-" + layer,
                 layer == "fc8" ? "seed 003 Table 6 = seed 002 Table 1" : "seed 002 sect. 2.2 (as Table 1)", inputs,
                 0, 128, {}};
  t.rows = {fc("fc1", "input", 4096),       fc("fc2", "fc1", 4096),
            fc("fc3", "fc2", 4096),         reshape("reshape", "fc3", 256, 4),
            upconv("upconv1", "reshape", 5, 256), upconv("upconv2", "upconv1", 5, 128),
            upconv("upconv3", "upconv2", 5, 64),  upconv("upconv4", "upconv3", 5, 32),
            output(upconv("upconv5", "upconv4", 5, 3))};
  return t;
}

}  // namespace

const std::vector<std::string>& decoder_table_names() {
  static const std::vector<std::string> names = {
      "hog",           "sift",          "dsift",         "lbp",           "alexnet-conv1", "alexnet-conv2", "alexnet-conv3",
      "alexnet-conv4", "alexnet-conv5", "alexnet-fc6",   "alexnet-fc7",   "alexnet-fc8"};
  return names;
}

DecoderTable decoder_table(const std::string& name) {
  if (name == "hog") return hog_table();
  if (name == "sift") return sift_table();
  if (name == "dsift") return sift_table("dsift", 128);
  if (name == "lbp") return lbp_table();
  // AlexNet outputs after each layer's ReLU / pooling / normalisation at 227 x 227 (seed 003 Table 1).
  if (name == "alexnet-conv1") return alexnet_conv_table("conv1", 96, 27, 3);
  if (name == "alexnet-conv2") return alexnet_conv_table("conv2", 256, 13, 4);
  if (name == "alexnet-conv3") return alexnet_conv_table("conv3", 384, 13, 4);
  if (name == "alexnet-conv4") return alexnet_conv_table("conv4", 384, 13, 4);
  if (name == "alexnet-conv5") return alexnet_conv_table("conv5", 256, 6, 5);
  if (name == "alexnet-fc6") return alexnet_fc_table("fc6", 4096);
  if (name == "alexnet-fc7") return alexnet_fc_table("fc7", 4096);
  if (name == "alexnet-fc8") return alexnet_fc_table("fc8", 1000);
  std::string known;
  for (const std::string& n : decoder_table_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown decoder table '", name, "'; known: ", known);
}

DecoderTable decoder_table(const std::string& name, int64_t in_channels) {
  DecoderTable t = decoder_table(name);
  if (name.rfind("alexnet-", 0) == 0) t.in_channels = in_channels;
  return t;
}

std::string decoder_table_for_representation(const std::string& rep) {
  if (rep == "hog" || rep == "hogb") return "hog";
  if (rep == "sift-grid") return "sift";
  if (rep == "lbp") return "lbp";
  if (rep == "dsift") return "dsift";
  fail("no decoder table for representation '", rep, "'; decoders exist for hog, hogb, sift-grid, dsift and lbp");
}

}  // namespace preimage::layers

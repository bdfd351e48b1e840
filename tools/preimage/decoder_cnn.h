#pragma once
// The CNN side of the learned decoders (seed 002 sect. 4): `train-decoder --model NET --layer L` and `decode` of
// such a decoder. The decoder reconstructs the network's input window (the photo window at the network's input
// size, colour, not gray) from the output of block L, as a down-sampled image (the table's output side: 192 for
// conv5 at 227 x 227, 128 for fc6-fc8; seed 002 sect. 2.2 "we predicted down-sampled images").
//
// "Output of layer L" is the paper's: the result of the block's last processing step (seed 002 sect. 2.1: CONV1 =
// after ReLU, pooling and normalisation; FC6 = after ReLU), i.e. the last of the relu / norm / pool / dropout layers
// that follow L's convolution. Decoders exist for the AlexNet family (alexnet, caffenet) at conv1 ... fc8, the
// layers with a table in layers/decoders.h; their input channels follow the file's network (reduced random
// networks of `init-weights` have narrower fc layers).
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "features/representation.h"
#include "tools/preimage/deep_run.h"

namespace preimage::tools {

struct CnnDecoderInput {
  std::shared_ptr<const LoadedModel> model;  // on the CPU: features are taken on the data threads
  std::string layer;         // conv1 ... fc8, as the paper names them
  std::string output_layer;  // the network's layer whose output is decoded (pool5 for conv5, relu6 for fc6)
  std::string table;         // decoder table (alexnet-conv5)
  int input_size = 0;        // the network's input side S (the windows are S x S)
  Shape feature_shape;       // [C, h, w] of the block's output at S x S
  std::string fingerprint;   // of the network file's bytes (64-bit FNV-1a, hex)

  // features::Representation that maps an RGB window [1, 3, S, S] 0..255 to the block's output [1, C, h, w]:
  // gray_input = false, rendered as the channel grid.
  features::Representation representation() const;
  // For the decoder file and config.json: file, model, layer, output layer, input size, fingerprint, random.
  nlohmann::json record() const;
};

// Loads the network file and resolves the layer; input_size 0 is the network's nominal size. Throws with a clear
// message for other networks, layers without a decoder table, a size too small for the layer, or a fully connected
// layer at a size other than the nominal one (its units would slide).
CnnDecoderInput make_cnn_decoder_input(const std::string& model_file, const std::string& layer, int input_size);

// 64-bit FNV-1a of a file's bytes, as 16 hex digits.
std::string file_fingerprint(const std::string& path);

}  // namespace preimage::tools

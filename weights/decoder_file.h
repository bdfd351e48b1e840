#pragma once
// A trained decoder as one safetensors file (weights/safetensors.h) that says everything `decode` needs:
//   tensors   "<row>.weight", "<row>.bias" of the table (layers/decoders.h), float32
//   metadata  preimage.kind            "decoder"
//             preimage.decoder         table name (hog, sift, lbp, alexnet-fc8, ...)
//             preimage.width           channel scale of the table (e.g. "0.25")
//             preimage.input_shape     "[C, H, W]" of the features (fc tables: "[C]")
//             preimage.image_size      S: the decoder reconstructs S x S images (cnn: the down-sampled window)
//             preimage.representation  "hog" | "hogb" | "lbp" | "sift-grid" | "dsift" | "cnn"
//             preimage.model           (cnn only) JSON: network file, model, layer, output layer, input size,
//                                      fingerprint of the file (tools/preimage/decoder_cnn.h)
//             preimage.rep_options     JSON of features::RepresentationOptions (cell sizes, orientations)
//             preimage.preprocessing   what is done to an image before its features are taken (text)
//             preimage.target_mean, preimage.target_scale   decoder output y -> pixel = mean + scale * y
//             preimage.training        JSON record of the training run (informational)
// Loading validates the file like the CNN weights: known table, every tensor with its exact shape, nothing
// extra, all values finite, metadata well-formed; errors name the file and the field.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "features/representation.h"
#include "layers/decoders.h"

namespace preimage::weights {

struct DecoderFile {
  layers::Decoder decoder;
  std::string representation;
  features::RepresentationOptions rep_options;
  int image_size = 0;
  float target_mean = 128.0f, target_scale = 64.0f;
  nlohmann::json training;  // may be null
  nlohmann::json model;     // representation "cnn": the network the features come from; null otherwise
  // Autoencoder training (`train-decoder --finetune-encoder`, seed 002 sect. 4.2): the trained weights of the
  // network's layers up to the decoded one, by the network's tensor names (stored as "encoder.<name>"; fc weights
  // 4-d as layers::Network holds them). They replace the recorded network's weights wherever features are taken.
  std::map<std::string, Tensor> encoder;
};

nlohmann::json rep_options_json(const features::RepresentationOptions& o);
features::RepresentationOptions rep_options_from_json(const nlohmann::json& j);
extern const char* const kDecoderPreprocessing, *const kCnnDecoderPreprocessing;

void save_decoder(const std::string& path, const DecoderFile& d);
DecoderFile load_decoder(const std::string& path);

}  // namespace preimage::weights

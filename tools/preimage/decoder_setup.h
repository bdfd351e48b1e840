#pragma once
// What every command that runs a trained decoder needs (decode, interpolate, sample): the decoder file, its
// network when it decodes a CNN layer (the recorded file, or --model, checked to be the same bytes), and the
// representation that turns an image into the features the decoder learned from, with the same preprocessing as
// in training (weights/decoder_file.h).
#include <memory>
#include <string>
#include <vector>

#include "features/representation.h"
#include "tools/preimage/decoder_cnn.h"
#include "weights/decoder_file.h"

namespace preimage::tools {

struct DecoderSetup {
  std::string path;
  weights::DecoderFile file;
  std::unique_ptr<CnnDecoderInput> cnn;  // network decoders only
  features::Representation rep;

  // An image file as the decoder sees it: *original = the target-domain window [1, 3, T, T] 0..255 (T = the
  // decoder's output side), *features = [1, ...] its features, checked against the decoder.
  // Network decoders: *window (when given) = the window at the network's input size [1, 3, S, S], the image the
  // paper compares with after upsampling the reconstruction bilinearly (seed 002 sect. 4.1).
  void load(const std::string& image, Tensor* original, Tensor* features, Tensor* window = nullptr) const;
  // Throws naming `what` when features [1, ...] do not fit the decoder: [1, C, H, W] for convolutional decoders;
  // [1, C] or [1, C, 1, 1] (as a network's fc layer gives it) for fully connected ones.
  void check_features(const Tensor& f, const std::string& what) const;
  // For config.json: table, width, representation, image size, training record (and the network's record).
  nlohmann::json record() const;
};

// Stacks [1, ...] tensors of one shape into [N, ...].
Tensor stack_samples(const std::vector<Tensor>& xs);

// Reads and validates a decoder file; `model` overrides the recorded network file of a network decoder (must be
// the same bytes) and must be empty for shallow decoders. Throws with a clear message.
DecoderSetup open_decoder(const std::string& path, const std::string& model);

}  // namespace preimage::tools

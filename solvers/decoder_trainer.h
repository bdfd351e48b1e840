#pragma once
// Training of the up-convolutional decoders (seed 002 eq. 3): w* = argmin sum_i ||x_i - f(phi(x_i), w)||^2 with
// Adam (solvers/adam.h) and the constant-then-halving rate (solvers/lr_schedule.h). The loop itself is in the
// `train-decoder` tool; this file holds one training step, the validation error, and the checkpoint -- which is
// exactly the trainer's state (weights, Adam moments and step, seed and data position, config), so a resumed run
// is the uninterrupted one bit for bit.
//
// Target scaling: the decoder predicts y = (RGB - 128) / 64 per channel (pixels 0..255 map to about [-2, 2], a
// unit-scale target for He-initialised layers). The loss is the mean over all elements of (y - target)^2: the
// paper's sum of squares divided by a constant (batch * 3 * S * S * 64^2), which changes nothing for Adam but the
// effective epsilon. Reconstructions are 128 + 64 y, clamped to 0..255.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/decoders.h"
#include "layers/network.h"
#include "solvers/adam.h"
#include "solvers/decoder_data.h"

namespace preimage::solvers {

constexpr float kTargetMean = 128.0f, kTargetScale = 64.0f;

// The encoder of autoencoder training (seed 002 sect. 4.2, `train-decoder --finetune-encoder`): the network's
// layers from the first to `output_layer`, whose weights are trained with the decoder's (same Adam settings and
// rate). Its batches carry the network input x = window - mean [B, 3, S, S] in Batch::features, not the layer's
// output. `net` gives the structure only; the weights in use are `params`.
struct Encoder {
  const layers::Network* net = nullptr;
  std::string output_layer;
  std::vector<std::string> names;  // tensor names of the weights and biases of the range, in layer order
  std::vector<Tensor> params;      // on the training device
  AdamState adam;
  bool defined() const { return net != nullptr; }
};
// The encoder of `net` up to `output_layer`, starting from the network's weights, with zeroed Adam moments.
Encoder make_encoder(const layers::Network& net, const std::string& output_layer);
// The output of the encoder's last layer for inputs x [N, 3, S, S] (no gradient), in chunks, on the host.
Tensor encode(const Encoder& e, const View& x, Device device, int64_t chunk = 32);

struct TrainerState {
  layers::Decoder decoder;
  AdamState adam;
  int64_t step = 0;  // steps done; batch `step` is the next one (the data position)
  Encoder encoder;   // autoencoder training only (undefined otherwise)
};

struct StepResult {
  double loss = 0;        // mean squared error in target units
  double grad_norm = 0;   // L2 norm of all gradients together
};

// The batch's loss and the gradient of every parameter (decoder's in parameter order, then the encoder's), on the
// training device, without changing anything. A non-finite loss returns no gradients.
struct BatchGradients {
  double loss = 0;
  std::vector<Tensor> decoder, encoder;
};
BatchGradients batch_gradients(const TrainerState& s, const Batch& batch, Device device);

// One step on a batch: forward, backward, Adam at rate lr. Throws preimage::Error before changing the weights when
// the loss or a gradient is not finite.
StepResult train_step(TrainerState& s, const Batch& batch, const kernels::AdamParams& hp, float lr, Device device);

// Reconstructions (pixels, clamped 0..255) [N, 3, S, S] of features [N, ...], in chunks of `chunk`.
Tensor decode_batch(const layers::Decoder& d, const View& features, Device device, int64_t chunk = 32);

// Per-image ||x_i - r_i|| (0..255 RGB) and the normalised error of seed 002 sect. 2.2: their mean divided by the
// mean pairwise distance of the images x (NaN for a single image).
struct ReconstructionErrors {
  std::vector<double> per_image;
  double mean = 0, mean_pairwise = 0, normalised = 0;
};
ReconstructionErrors reconstruction_errors(const View& images, const View& reconstructions);

// Mean ||x_i - x_j|| over the pairs of a batch of images [N, ...] (NaN for N < 2).
double mean_pairwise_distance(const View& images);

// Checkpoint file (safetensors): tensors "param.<name>", "adam_m.<name>", "adam_v.<name>"; metadata step,
// adam_step, the run config (JSON) and the decoder's table/width/input shape. Written atomically. With an encoder
// also "encoder.<name>", "encoder_adam_m.<name>", "encoder_adam_v.<name>" and metadata encoder_adam_step; loading
// fills encoder.names, params and adam (in name order), and the caller attaches the network and checks the names.
void save_checkpoint(const std::string& path, const TrainerState& s, const nlohmann::json& config);
// Reads a checkpoint written by save_checkpoint; returns the config it was written with.
TrainerState load_checkpoint(const std::string& path, nlohmann::json* config);

// The fields of two run configs that differ ("lr: checkpoint 0.001, now 0.002"); empty when they agree.
std::vector<std::string> config_differences(const nlohmann::json& checkpoint, const nlohmann::json& now);

}  // namespace preimage::solvers

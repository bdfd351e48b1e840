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
#include "solvers/adam.h"
#include "solvers/decoder_data.h"

namespace preimage::solvers {

constexpr float kTargetMean = 128.0f, kTargetScale = 64.0f;

struct TrainerState {
  layers::Decoder decoder;
  AdamState adam;
  int64_t step = 0;  // steps done; batch `step` is the next one (the data position)
};

struct StepResult {
  double loss = 0;        // mean squared error in target units
  double grad_norm = 0;   // L2 norm of all gradients together
};

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

// Checkpoint file (safetensors): tensors "param.<name>", "adam_m.<name>", "adam_v.<name>"; metadata step,
// adam_step, the run config (JSON) and the decoder's table/width/input shape. Written atomically.
void save_checkpoint(const std::string& path, const TrainerState& s, const nlohmann::json& config);
// Reads a checkpoint written by save_checkpoint; returns the config it was written with.
TrainerState load_checkpoint(const std::string& path, nlohmann::json* config);

// The fields of two run configs that differ ("lr: checkpoint 0.001, now 0.002"); empty when they agree.
std::vector<std::string> config_differences(const nlohmann::json& checkpoint, const nlohmann::json& now);

}  // namespace preimage::solvers

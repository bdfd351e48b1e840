// One decoder training step, validation error and checkpoints (solvers/decoder_trainer.h).
#include "solvers/decoder_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <limits>

#include "engine/error.h"
#include "engine/ops.h"
#include "weights/safetensors.h"

namespace preimage::solvers {
using nlohmann::json;

namespace {
// (images - 128) / 64 on the host, [N, 3, S, S].
Tensor target_of(const View& images) {
  Tensor t = Tensor::copy_of(images);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = (t.data()[i] - kTargetMean) / kTargetScale;
  return t;
}

double sum_squares_host(const View& v) {
  Tensor host;
  const float* p = v.data;
  if (v.device != Device::cpu) {
    host = Tensor::copy_of(v).to(Device::cpu);
    p = host.data();
  }
  double s = 0;
  for (int64_t i = 0; i < v.numel(); ++i) s += double(p[i]) * p[i];
  return s;
}
}  // namespace

Encoder make_encoder(const layers::Network& net, const std::string& output_layer) {
  Encoder e;
  e.net = &net;
  e.output_layer = output_layer;
  const size_t last = net.layer_index(output_layer);
  for (size_t i = 0; i <= last; ++i) {
    const layers::Layer& l = net.layers[i];
    if (!l.has_weights()) continue;
    for (const std::string& name : {l.weight, l.bias}) {
      e.names.push_back(name);
      e.params.push_back(net.parameters().at(name).clone());
    }
  }
  PI_CHECK(!e.names.empty(), net.name, ": no weighted layer up to ", output_layer, ": nothing to fine-tune");
  e.adam = adam_state_for(e.params);
  return e;
}

namespace {
// The encoder's output for x on the tape t; the parameters become leaves (with gradients when `trainable`).
Var encoder_forward(Tape& t, const Encoder& e, Var x, bool trainable, std::vector<Var>* leaves) {
  std::map<std::string, Var> vars;
  for (size_t i = 0; i < e.names.size(); ++i) {
    const Var v = t.leaf(e.params[i].view(), trainable);
    vars[e.names[i]] = v;
    if (leaves) leaves->push_back(v);
  }
  return e.net->forward_range(t, x, e.net->layers.front().name, e.output_layer, &vars).back();
}
}  // namespace

namespace {
// f applied to x [N, ...] in chunks of `chunk` rows on `device` (one tape per chunk), gathered on the host.
Tensor map_in_chunks(const View& x, Device device, int64_t chunk, const std::function<Var(Tape&, Var)>& f) {
  const int64_t n = x.shape[0], per = x.numel() / std::max<int64_t>(1, n);
  Tensor out;
  for (int64_t first = 0; first < n; first += chunk) {
    const int64_t m = std::min(chunk, n - first);
    Shape xs = x.shape;
    xs[0] = m;
    Tensor part = Tensor::empty(xs);
    std::memcpy(part.data(), x.data + first * per, sizeof(float) * size_t(m * per));
    Tape t(device);
    Var in = t.constant(device == Device::cpu ? std::move(part) : part.to(device));
    Tensor y = Tensor::copy_of(t.value(f(t, in))).to(Device::cpu);
    if (!out.defined()) {
      Shape os = y.shape();
      os[0] = n;
      out = Tensor::empty(os);
    }
    std::memcpy(out.data() + first * (y.numel() / m), y.data(), sizeof(float) * size_t(y.numel()));
  }
  return out;
}
}  // namespace

Tensor encode(const Encoder& e, const View& x, Device device, int64_t chunk) {
  return map_in_chunks(x, device, chunk, [&](Tape& t, Var in) { return encoder_forward(t, e, in, false, nullptr); });
}

BatchGradients batch_gradients(const TrainerState& s, const Batch& batch, Device device) {
  Tape t(device);
  const std::vector<Var> params = s.decoder.bind(t, true);
  Var x = t.constant(device == Device::cpu ? Tensor::copy_of(batch.features.view()) : batch.features.to(device));
  std::vector<Var> enc_params;
  if (s.encoder.defined()) x = encoder_forward(t, s.encoder, x, true, &enc_params);
  Tensor target = target_of(batch.images.view());
  Var y0 = t.constant(device == Device::cpu ? std::move(target) : target.to(device));
  Var y = s.decoder.forward(t, params, x);
  // mean((y - target)^2), composed from the tape's elementwise ops (each has a CPU reference and a CUDA kernel).
  Var diff = ops::add(t, y, ops::scale(t, y0, -1.0f));
  Var loss = ops::mean(t, ops::mul(t, diff, diff));
  BatchGradients g;
  g.loss = t.item(loss);
  if (!std::isfinite(g.loss)) return g;
  t.backward(loss);
  auto take = [&](const std::vector<Var>& vars, std::vector<Tensor>* out) {
    for (const Var& v : vars) {
      const View gv = t.grad(v);
      out->push_back(gv.data ? Tensor::copy_of(gv) : Tensor());
    }
  };
  take(params, &g.decoder);
  take(enc_params, &g.encoder);
  return g;
}

StepResult train_step(TrainerState& s, const Batch& batch, const kernels::AdamParams& hp, float lr, Device device) {
  const BatchGradients g = batch_gradients(s, batch, device);
  StepResult r;
  r.loss = g.loss;
  PI_CHECK(std::isfinite(r.loss), "step ", s.step + 1, ": the loss is not finite (", r.loss, "); training stopped "
           "before updating the weights (lower --lr?)");
  double g2 = 0;
  auto views = [&](const std::vector<Tensor>& gs, const std::function<std::string(size_t)>& name) {
    std::vector<View> out;
    for (size_t i = 0; i < gs.size(); ++i) {
      PI_CHECK(gs[i].defined(), "step ", s.step + 1, ": parameter ", name(i), " got no gradient");
      const double gi = sum_squares_host(gs[i].view());
      PI_CHECK(std::isfinite(gi), "step ", s.step + 1, ": the gradient of ", name(i),
               " is not finite; training stopped before updating the weights (lower --lr?)");
      g2 += gi;
      out.push_back(gs[i].view());
    }
    return out;
  };
  const std::vector<View> grads = views(g.decoder, [&](size_t i) { return s.decoder.parameter_shapes()[i].first; });
  const std::vector<View> enc_grads = views(g.encoder, [&](size_t i) { return "encoder " + s.encoder.names[i]; });
  r.grad_norm = std::sqrt(g2);
  adam_update(s.decoder.parameters(), s.adam, grads, hp, lr);
  if (s.encoder.defined()) adam_update(s.encoder.params, s.encoder.adam, enc_grads, hp, lr);
  ++s.step;
  return r;
}

Tensor decode_batch(const layers::Decoder& d, const View& features, Device device, int64_t chunk) {
  Tensor out = map_in_chunks(features, device, chunk, [&](Tape& t, Var x) { return d.forward(t, d.bind(t, false), x); });
  for (int64_t i = 0; i < out.numel(); ++i)
    out.data()[i] = std::clamp(kTargetMean + kTargetScale * out.data()[i], 0.0f, 255.0f);
  return out;
}

namespace {
double l2_distance(const float* a, const float* b, int64_t n) {
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += double(a[k] - b[k]) * (a[k] - b[k]);
  return std::sqrt(s);
}
}  // namespace

double mean_pairwise_distance(const View& images) {
  const int64_t n = images.shape[0], per = images.numel() / std::max<int64_t>(1, n);
  double sum = 0;
  int64_t pairs = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j, ++pairs) sum += l2_distance(images.data + i * per, images.data + j * per, per);
  return pairs ? sum / double(pairs) : std::numeric_limits<double>::quiet_NaN();
}

ReconstructionErrors reconstruction_errors(const View& images, const View& recon) {
  PI_CHECK(images.shape == recon.shape, "reconstruction_errors: images ", images.shape.str(), " vs reconstructions ",
           recon.shape.str());
  const int64_t n = images.shape[0], per = images.numel() / std::max<int64_t>(1, n);
  ReconstructionErrors e;
  for (int64_t i = 0; i < n; ++i) e.per_image.push_back(l2_distance(images.data + i * per, recon.data + i * per, per));
  for (double v : e.per_image) e.mean += v / double(n);
  e.mean_pairwise = mean_pairwise_distance(images);
  e.normalised = e.mean / e.mean_pairwise;  // NaN for a single image
  return e;
}

void save_checkpoint(const std::string& path, const TrainerState& s, const json& config) {
  const auto& shapes = s.decoder.parameter_shapes();
  std::vector<Tensor> host;  // host copies (CUDA runs), kept alive while writing
  host.reserve(3 * shapes.size());
  std::vector<std::pair<std::string, View>> tensors;
  auto add = [&](const std::string& name, const Tensor& t) {
    host.push_back(t.to(Device::cpu));
    tensors.emplace_back(name, host.back().view());
  };
  for (size_t i = 0; i < shapes.size(); ++i) {
    add("param." + shapes[i].first, s.decoder.parameters()[i]);
    add("adam_m." + shapes[i].first, s.adam.m[i]);
    add("adam_v." + shapes[i].first, s.adam.v[i]);
  }
  for (size_t i = 0; i < s.encoder.names.size(); ++i) {
    add("encoder." + s.encoder.names[i], s.encoder.params[i]);
    add("encoder_adam_m." + s.encoder.names[i], s.encoder.adam.m[i]);
    add("encoder_adam_v." + s.encoder.names[i], s.encoder.adam.v[i]);
  }
  json in = json::array();
  for (int i = 0; i < s.decoder.input_shape().ndim(); ++i) in.push_back(s.decoder.input_shape()[i]);
  std::map<std::string, std::string> meta = {
      {"preimage.kind", "decoder-checkpoint"},
      {"preimage.step", std::to_string(s.step)},
      {"preimage.adam_step", std::to_string(s.adam.step)},
      {"preimage.decoder", s.decoder.table().name},
      {"preimage.width", json(s.decoder.width()).dump()},
      {"preimage.input_scale", json(s.decoder.input_scale()).dump()},
      {"preimage.input_shape", in.dump()},
      // The data and the weights' init are counter-based (Philox): the RNG state is (seed, next batch) = the
      // config's seed and preimage.step.
      {"preimage.rng", "philox4x32-10 counter-based; state = (config.seed, next batch = preimage.step)"},
      {"preimage.config", config.dump()},
  };
  if (s.encoder.defined()) {
    meta["preimage.encoder_names"] = json(s.encoder.names).dump();
    meta["preimage.encoder_adam_step"] = std::to_string(s.encoder.adam.step);
  }
  write_safetensors(path, tensors, meta);
}

TrainerState load_checkpoint(const std::string& path, json* config) {
  SafetensorsFile f = read_safetensors(path);
  auto need = [&](const char* key) -> const std::string& {
    auto it = f.metadata.find(key);
    PI_CHECK(it != f.metadata.end(), path, ": metadata ", key, " missing: not a train-decoder checkpoint");
    return it->second;
  };
  PI_CHECK(need("preimage.kind") == "decoder-checkpoint", path, ": not a train-decoder checkpoint");
  TrainerState s;
  try {
    const json in = json::parse(need("preimage.input_shape"));
    Shape input = in.size() == 1 ? Shape{in[0].get<int64_t>()}
                                 : Shape{in.at(0).get<int64_t>(), in.at(1).get<int64_t>(), in.at(2).get<int64_t>()};
    s.decoder = layers::Decoder(layers::decoder_table(need("preimage.decoder"), input[0]),
                                json::parse(need("preimage.width")).get<double>(), input);
    if (f.metadata.count("preimage.input_scale"))
      s.decoder.set_input_scale(json::parse(f.metadata.at("preimage.input_scale")).get<float>());
    s.step = std::stoll(need("preimage.step"));
    s.adam.step = std::stoll(need("preimage.adam_step"));
    *config = json::parse(need("preimage.config"));
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail(path, ": malformed checkpoint metadata (", e.what(), ")");
  }
  const auto& shapes = s.decoder.parameter_shapes();
  auto take = [&](const std::string& name, const Shape& shape) {
    auto it = f.tensors.find(name);
    PI_CHECK(it != f.tensors.end() && it->second.shape() == shape, path, ": tensor ", name, " missing or not ",
             shape.str());
    return std::move(it->second);
  };
  for (size_t i = 0; i < shapes.size(); ++i) {
    s.decoder.parameters()[i] = take("param." + shapes[i].first, shapes[i].second);
    s.adam.m.push_back(take("adam_m." + shapes[i].first, shapes[i].second));
    s.adam.v.push_back(take("adam_v." + shapes[i].first, shapes[i].second));
  }
  if (f.metadata.count("preimage.encoder_names")) {
    try {
      s.encoder.names = json::parse(f.metadata.at("preimage.encoder_names")).get<std::vector<std::string>>();
      s.encoder.adam.step = std::stoll(need("preimage.encoder_adam_step"));
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      fail(path, ": malformed encoder metadata (", e.what(), ")");
    }
    for (const std::string& name : s.encoder.names) {
      auto it = f.tensors.find("encoder." + name);
      PI_CHECK(it != f.tensors.end(), path, ": tensor encoder.", name, " missing");
      const Shape shape = it->second.shape();
      s.encoder.params.push_back(take("encoder." + name, shape));
      s.encoder.adam.m.push_back(take("encoder_adam_m." + name, shape));
      s.encoder.adam.v.push_back(take("encoder_adam_v." + name, shape));
    }
  }
  return s;
}

std::vector<std::string> config_differences(const json& ckpt, const json& now) {
  std::vector<std::string> diffs;
  for (auto it = now.begin(); it != now.end(); ++it) {
    if (!ckpt.contains(it.key())) diffs.push_back(it.key() + ": not in the checkpoint, now " + it.value().dump());
    else if (ckpt.at(it.key()) != it.value())
      diffs.push_back(it.key() + ": checkpoint " + ckpt.at(it.key()).dump() + ", now " + it.value().dump());
  }
  for (auto it = ckpt.begin(); it != ckpt.end(); ++it)
    if (!now.contains(it.key())) diffs.push_back(it.key() + ": checkpoint " + it.value().dump() + ", now absent");
  return diffs;
}

}  // namespace preimage::solvers

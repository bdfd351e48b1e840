// `preimage init-weights`: a network file with seeded random (He-normal) weights, for tests and the random-weight
// results (layers/models.h init_random). The file says so in its metadata (preimage.random_weights = "true"), and
// every command that loads it repeats it in its config.json, metrics.json and gallery.
#include <cstdio>
#include <memory>
#include <string>

#include "layers/models.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/deep_run.h"
#include "weights/model_weights.h"

namespace preimage::tools {
namespace {

struct InitWeightsOptions {
  std::string model, out;
  layers::ModelOptions model_options;
  uint64_t seed = 0;
};

int run_init_weights(const InitWeightsOptions& o) {
  layers::Network net = layers::make_model(o.model, o.model_options);
  layers::init_random(net, o.seed);
  weights::save_network(o.out, net,
                        {{"preimage.random_weights", "true"},
                         {"preimage.random_seed", std::to_string(o.seed)},
                         {"preimage.description", kRandomWeightsNote}});
  int64_t params = 0;
  for (const auto& [name, t] : net.parameters()) params += t.numel();
  std::fprintf(stderr,
               "wrote %s: %s with RANDOM weights (seed %llu), input %dx%d, fc %lld, classes %lld, %lld parameters\n",
               o.out.c_str(), net.name.c_str(), static_cast<unsigned long long>(o.seed), net.preprocessing.input_h,
               net.preprocessing.input_w,
               static_cast<long long>(o.model_options.fc_width), static_cast<long long>(o.model_options.num_classes),
               static_cast<long long>(params));
  return 0;
}

}  // namespace

void register_init_weights(CLI::App& app) {
  auto o = std::make_shared<InitWeightsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "init-weights",
      "Write a network file with seeded random (He-normal) weights, labelled as random in its metadata: for tests "
      "and for the random-weight results (docs/deep.md). Not a trained network.");
  cmd->add_option("--model", o->model, "alexnet, caffenet, vgg-m, vgg-vd-16 (vgg16)")->required();
  cmd->add_option("--out", o->out, "output .safetensors file")->required();
  cmd->add_option("--seed", o->seed, "random seed")->capture_default_str();
  cmd->add_option("--fc-width", o->model_options.fc_width, "fc6/fc7 width (reduced heads for fast tests)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--input-size", o->model_options.input_size,
                  "nominal input side (default: the published network's, 227 for alexnet); fc6's kernel is the "
                  "pool5 map at this size, so a smaller side makes a smaller, faster network")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--classes", o->model_options.num_classes, "fc8 width")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->callback([o] { set_exit_code(run_init_weights(*o)); });
}

}  // namespace preimage::tools

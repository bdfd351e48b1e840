#include "tools/preimage/commands.h"

namespace preimage::tools {

namespace {
int g_exit_code = 0;
}

void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

void register_commands(CLI::App& app) {
  register_demo(app);
  register_features(app);
  register_invert(app);
  register_eval(app);
  register_convert_weights(app);
  register_init_weights(app);
  register_stats(app);
  register_activations(app);
  register_actmax(app);
  register_caricature(app);
  register_bench(app);
  register_train_decoder(app);
  register_decode(app);
  register_interpolate(app);
  register_sample(app);
  register_merge(app);
}

}  // namespace preimage::tools

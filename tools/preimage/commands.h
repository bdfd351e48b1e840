#pragma once
// Registration of the subcommands. Each cmd_<name>.cpp defines one register_<name>(); a subcommand's callback runs
// its job inside CLI11's parse() and reports failure through set_exit_code().
#include <CLI/CLI.hpp>

namespace preimage::tools {

void register_commands(CLI::App& app);
void register_demo(CLI::App& app);
void register_invert(CLI::App& app);
void register_features(CLI::App& app);
void register_eval(CLI::App& app);
void register_convert_weights(CLI::App& app);
void register_init_weights(CLI::App& app);
void register_stats(CLI::App& app);
void register_activations(CLI::App& app);
void register_actmax(CLI::App& app);
void register_caricature(CLI::App& app);
void register_bench(CLI::App& app);
void register_train_decoder(CLI::App& app);
void register_decode(CLI::App& app);
void register_interpolate(CLI::App& app);
void register_sample(CLI::App& app);
void register_merge(CLI::App& app);

void set_exit_code(int code);
int exit_code();

}  // namespace preimage::tools

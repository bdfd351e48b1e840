// The `preimage` command: one binary, one subcommand per job (tools/preimage/cmd_*.cpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "engine/error.h"
#include "tools/preimage/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"preimage: what image representations keep. Pre-images of HOG, DSIFT, LBP and CNN layers."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "preimage 0.1.0");
  preimage::tools::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const preimage::Error& e) {
    std::fprintf(stderr, "preimage: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preimage: unexpected error: %s\n", e.what());
    return 1;
  }
  return preimage::tools::exit_code();
}

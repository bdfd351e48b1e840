// The `preimage` command: one binary, one subcommand per job (tools/preimage/cmd_*.cpp).
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include "engine/error.h"
#include "kernels/cpu_isa.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/folder_run.h"

int main(int argc, char** argv) {
  CLI::App app{"preimage: what image representations keep. Pre-images of HOG, DSIFT, LBP and CNN layers."};
  app.require_subcommand(1);
  // The CPU code path is part of the version: two runs of one binary may differ in it (kernels/cpu_isa.h).
  app.set_version_flag("--version", [] {
    namespace k = preimage::kernels;
    std::string runnable;
    for (k::Isa isa : {k::Isa::baseline, k::Isa::avx2, k::Isa::avx512})
      if (k::isa_supported(isa)) runnable += std::string(runnable.empty() ? "" : " ") + k::isa_name(isa);
    return std::string("preimage " PREIMAGE_VERSION " (git " PREIMAGE_GIT_HASH ")\nCPU code path: ") +
           k::isa_name(k::cpu_kernels().isa) + " (this machine runs: " + runnable +
           "; PREIMAGE_ISA=baseline|avx2|avx512 forces one)";
  });
  preimage::tools::register_commands(app);
  preimage::tools::set_command_line(argc, argv);
  // A file size limit (ulimit -f) then fails the write with EFBIG, which the writer reports, instead of killing
  // the process mid-file.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : preimage::tools::kExitUsage;  // --help and --version exit 0
  } catch (const preimage::Error& e) {
    std::fprintf(stderr, "preimage: error: %s\n", e.what());
    return preimage::tools::kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preimage: unexpected error: %s\n", e.what());
    return preimage::tools::kExitError;
  }
  return preimage::tools::exit_code();
}

// Running the converter script and validating its output (weights/convert.h).
#include "weights/convert.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/error.h"
#include "weights/model_weights.h"

namespace preimage::weights {
namespace {
namespace fs = std::filesystem;

struct ProcessResult {
  int status = -1;     // exit status, or -1 if it did not exit normally
  std::string output;  // stdout and stderr together
};

// fork + execv (no shell: paths with spaces or quotes are passed as they are), output captured through a pipe.
ProcessResult run_process(const std::vector<std::string>& argv) {
  int fds[2];
  PI_CHECK(pipe(fds) == 0, "convert-weights: cannot create a pipe");
  const pid_t pid = fork();
  PI_CHECK(pid >= 0, "convert-weights: cannot fork");
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    const std::string msg = "error: cannot run " + argv[0] + "\n";
    if (write(STDERR_FILENO, msg.data(), msg.size()) < 0) _exit(127);
    _exit(127);
  }
  close(fds[1]);
  ProcessResult r;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) r.output.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

std::string find_converter_script(const std::string& source_hint) {
  if (const char* env = std::getenv("PREIMAGE_CONVERTER")) {
    PI_CHECK(fs::is_regular_file(env), "PREIMAGE_CONVERTER=", env, " is not a file");
    return env;
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (fs::path dir = exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
      const fs::path cand = dir / "tools" / "convert_weights.py";
      if (fs::is_regular_file(cand)) return cand.string();
      if (dir == dir.root_path()) break;
    }
  if (!source_hint.empty()) {
    const fs::path cand = fs::path(source_hint) / "tools" / "convert_weights.py";
    if (fs::is_regular_file(cand)) return cand.string();
  }
  fail("cannot find tools/convert_weights.py (set PREIMAGE_CONVERTER to its path)");
}

layers::Network convert_weights(const ConvertOptions& o) {
  PI_CHECK(!o.input.empty() && !o.output.empty(), "convert-weights: input and output paths are required");
  PI_CHECK(fs::is_regular_file(o.input), "convert-weights: no such file: ", o.input);
  PI_CHECK(fs::is_regular_file(o.python), "convert-weights: Python not found at ", o.python,
           " (Debian: apt install python3-numpy python3-scipy python3-torch python3-onnx)");
  const layers::Network def = layers::make_model(o.model, o.model_options);
  const std::string script = o.script.empty() ? find_converter_script("") : o.script;

  // The definition goes to the script as JSON, in a temporary file beside the output.
  const fs::path out_dir = fs::absolute(o.output).parent_path();
  PI_CHECK(fs::is_directory(out_dir), "convert-weights: output folder ", out_dir.string(), " does not exist");
  const fs::path spec = out_dir / (".preimage-spec-" + std::to_string(getpid()) + "-" +
                                   fs::path(o.output).filename().string() + ".json");
  {
    std::ofstream f(spec);
    PI_CHECK(f.good(), "convert-weights: cannot write ", spec.string());
    f << def.spec_json();
  }
  std::vector<std::string> argv = {o.python, script, "--spec", spec.string(), "--input", o.input, "--output",
                                   o.output, "--format", o.format, "--preset", o.preset};
  if (!o.mean.empty()) {
    argv.push_back("--mean");
    argv.push_back(o.mean);
  }
  ProcessResult r;
  try {
    r = run_process(argv);
  } catch (...) {
    fs::remove(spec);
    throw;
  }
  fs::remove(spec);
  if (r.status != 0) {
    fail("convert-weights: converting ", o.input, " as ", def.name, " failed: ", trimmed(r.output),
         r.status == 2 ? "" : " (converter exit status " + std::to_string(r.status) + ")");
  }
  try {
    return load_network(o.output, def.name);
  } catch (const Error& e) {
    std::error_code ec;
    fs::remove(o.output, ec);  // never leave a file that does not load
    fail("convert-weights: the converted file does not validate (removed): ", e.what());
  }
}

}  // namespace preimage::weights

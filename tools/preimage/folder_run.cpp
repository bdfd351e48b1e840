#include "tools/preimage/folder_run.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/error.h"
#include "tools/preimage/run_common.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  if (g_stop_signal) {  // the second one: stop now
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_stop_signal = sig;
  static const char msg[] =
      "\npreimage: stopping after the current input (the finished ones stay; send the signal again to stop at "
      "once)\n";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
}

std::string g_command_line;

}  // namespace

// Fields that cannot change a result: an earlier run with other values may be resumed.
json comparable_config(json config) {
  for (const char* k : {"threads", "batch", "files", "input"}) config.erase(k);
  return config;
}

// The files an entry names (reconstructions, sheets, renderings), relative to the output folder.
void named_files(const json& j, std::vector<std::string>* out) {
  static const std::set<std::string> keys = {"png", "png16", "sheet", "features_png", "init_png",
                                             "unperturbed_png", "safetensors"};
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it->is_string() && keys.count(it.key())) out->push_back(it->get<std::string>());
      else named_files(*it, out);
    }
  } else if (j.is_array()) {
    for (const json& e : j) named_files(e, out);
  }
}

json read_json_file(const std::string& path) {
  std::ifstream f(path);
  PI_CHECK(f.good(), path, ": cannot read");
  try {
    return json::parse(f);
  } catch (const json::exception& e) {
    fail(path, ": not valid JSON (", e.what(), ")");
  }
}

bool is_failure(const json& entry) { return entry.contains("error") && entry["error"].is_string(); }

void set_command_line(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                          "0123456789-_=/.,:+@%") == std::string::npos;
    if (!plain) {  // single-quoted for a POSIX shell
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    g_command_line += (i ? " " : "") + a;
  }
}

const std::string& command_line() { return g_command_line; }

void add_resume_option(CLI::App* cmd, bool* resume) {
  cmd->add_flag("--resume", *resume,
                "continue an interrupted run in the same --out: inputs finished there (listed in its metrics.json) "
                "are kept, the rest are done; refused when the settings differ");
}

FolderRun::FolderRun(std::string out, std::string key, std::vector<std::string> names, bool resume,
                     const json& config)
    : out_(std::move(out)), key_(std::move(key)), names_(std::move(names)), entries_(names_.size()),
      reused_(names_.size(), false) {
  const fs::path config_path = fs::path(out_) / "config.json", metrics_path = fs::path(out_) / "metrics.json";
  std::error_code ec;
  if (resume && !(fs::exists(config_path, ec) && fs::exists(metrics_path, ec))) {
    std::fprintf(stderr, "--resume: %s holds no earlier run (config.json and metrics.json): starting from the "
                 "beginning\n", out_.c_str());
  } else if (resume) {
    const json before = comparable_config(read_json_file(config_path.string())), now = comparable_config(config);
    if (before != now) {
      std::string field = "?";
      for (auto it = now.begin(); it != now.end(); ++it)
        if (!before.contains(it.key()) || before[it.key()] != *it) { field = it.key(); break; }
      for (auto it = before.begin(); field == "?" && it != before.end(); ++it)
        if (!now.contains(it.key())) field = it.key();
      fail("--resume: ", out_, " was made with other settings (", field, ": ",
           before.contains(field) ? before[field].dump() : "absent", " there, ",
           now.contains(field) ? now[field].dump() : "absent", " now); give a new --out, or the same options");
    }
    const json metrics = read_json_file(metrics_path.string());
    PI_CHECK(metrics.is_object() && metrics.contains("images") && metrics["images"].is_array(), metrics_path.string(),
             ": no \"images\" list: not the metrics of a folder run");
    size_t kept = 0;
    for (size_t i = 0; i < names_.size(); ++i) {
      for (const json& e : metrics["images"]) {
        if (!e.is_object() || !e.contains(key_) || e[key_] != names_[i] || is_failure(e)) continue;
        std::vector<std::string> files;
        named_files(e, &files);
        bool whole = true;
        for (const std::string& f : files) whole = whole && fs::is_regular_file(fs::path(out_) / f, ec);
        if (!whole) continue;  // a file was removed since: do it again
        entries_[i] = e;
        reused_[i] = true;
        ++kept;
        break;
      }
    }
    std::fprintf(stderr, "--resume: %zu of %zu inputs already done in %s\n", kept, names_.size(), out_.c_str());
  }
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

FolderRun::~FolderRun() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

bool FolderRun::stop_requested() const { return g_stop_signal != 0; }

void FolderRun::record(size_t i, json entry) {
  entries_.at(i) = std::move(entry);
  write_metrics();
  // Test hook (docs/reliability.md): PREIMAGE_TEST_STOP_AFTER=N acts as a Ctrl-C after N inputs of this process,
  // so the tests interrupt a run at an exact point.
  static const char* stop_after = std::getenv("PREIMAGE_TEST_STOP_AFTER");
  if (stop_after && ++recorded_ >= std::atol(stop_after) && !g_stop_signal) g_stop_signal = SIGINT;
}

std::vector<json> FolderRun::entries() const {
  std::vector<json> done;
  for (const json& e : entries_)
    if (!e.is_null()) done.push_back(e);
  return done;
}

int FolderRun::failures() const {
  int n = 0;
  for (const json& e : entries_) n += !e.is_null() && is_failure(e);
  return n;
}

void FolderRun::write_metrics() const {
  json m = header;
  m["images"] = entries();
  m["failures"] = failures();
  write_json((fs::path(out_) / "metrics.json").string(), m);
}

int FolderRun::finish(const std::string& what) const {
  write_metrics();  // also when nothing was recorded (an empty shard of a folder): metrics.json lists no input
  const std::vector<json> done = entries();
  const int failed = failures();
  if (failed) {
    std::fprintf(stderr, "%d of %zu inputs failed (their reasons are in %s/metrics.json):", failed, names_.size(),
                 out_.c_str());
    for (const json& e : done)
      if (is_failure(e)) std::fprintf(stderr, " %s", e[key_].get<std::string>().c_str());
    std::fprintf(stderr, "\n");
  }
  std::fprintf(stderr, "wrote %s (%zu of %zu inputs done, %d failed)\n", what.c_str(), done.size(), names_.size(),
               failed);
  if (g_stop_signal) {
    std::string again = command_line();
    if (again.find(" --resume") == std::string::npos) again += " --resume";
    std::fprintf(stderr, "interrupted by signal %d: %zu of %zu inputs not done; to do them:\n  %s\n",
                 int(g_stop_signal), names_.size() - done.size(), names_.size(), again.c_str());
    return 128 + g_stop_signal;
  }
  return failed ? kExitSomeFailed : kExitOk;
}

}  // namespace preimage::tools

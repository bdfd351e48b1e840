#pragma once
// Folder runs that survive interruption (docs/reliability.md). One entry per input goes into metrics.json as soon
// as the input's files are written (each file whole: temp + rename), so at any moment metrics.json lists exactly
// the finished inputs. --resume reads an earlier run's config.json and metrics.json in the same folder: with the
// same settings, its finished inputs are kept and skipped; with different settings it is refused. SIGINT/SIGTERM
// let the current input finish; the caller then writes metrics.json and index.html for what is done and exits
// with 128 + the signal; a second signal stops at once.
#include <csignal>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace preimage::tools {

// Exit codes of every command (docs/reliability.md; interrupted runs: 128 + signal, 130 for Ctrl-C).
constexpr int kExitOk = 0;
constexpr int kExitError = 1;       // the run failed or was refused (the message on stderr says why)
constexpr int kExitSomeFailed = 2;  // some inputs failed (listed in metrics.json and on stderr); the rest are done
constexpr int kExitUsage = 64;      // the command line is malformed (an unknown option, a missing value)

void add_resume_option(CLI::App* cmd, bool* resume);

// A metrics.json entry of an input that failed: its "error" is the reason (text). (decode's numeric "error" is
// the reconstruction error of a finished image.)
bool is_failure(const nlohmann::json& entry);
// The files a metrics.json entry names (reconstructions, sheets, renderings), relative to the output folder.
void named_files(const nlohmann::json& entry, std::vector<std::string>* out);
nlohmann::json read_json_file(const std::string& path);  // throws preimage::Error naming the file
// A run's config.json without the fields that cannot change a result (threads, batch, the input list): what
// --resume and `preimage merge` compare.
nlohmann::json comparable_config(nlohmann::json config);

class FolderRun {
 public:
  // out: the output folder; key: the metrics.json field naming an entry's input ("file" or "input"); names: the
  // inputs in processing order; config: this run's config.json, compared with the earlier one when resuming (all
  // fields but those that cannot change a result: threads, the input list). Throws when --resume meets different
  // settings. Installs the SIGINT/SIGTERM handlers until destroyed.
  FolderRun(std::string out, std::string key, std::vector<std::string> names, bool resume,
            const nlohmann::json& config);
  ~FolderRun();
  FolderRun(const FolderRun&) = delete;
  FolderRun& operator=(const FolderRun&) = delete;

  size_t size() const { return names_.size(); }
  // Input i was finished by an earlier run (--resume): its entry is kept and every file it names still exists.
  bool reused(size_t i) const { return reused_[i]; }
  // A SIGINT or SIGTERM arrived: finish (or skip) nothing more, write what is done and return exit_code().
  bool stop_requested() const;
  // Records input i (is_failure(entry): a failed input) and rewrites metrics.json: `header`'s fields, then
  // "images" (the entries so far, in input order) and "failures".
  void record(size_t i, nlohmann::json entry);
  // Rewrites metrics.json with the entries recorded so far (after changing header).
  void write_metrics() const;
  std::vector<nlohmann::json> entries() const;  // recorded ones, in input order
  int failures() const;
  // Prints what was done (and, when interrupted, the command that resumes) and returns the exit code.
  int finish(const std::string& what) const;

  nlohmann::json header = nlohmann::json::object();  // metrics.json fields beside images and failures

 private:
  std::string out_, key_;
  std::vector<std::string> names_;
  std::vector<nlohmann::json> entries_;  // null: not recorded
  std::vector<bool> reused_;
  long recorded_ = 0;
  struct sigaction old_int_, old_term_;
};

// The command line as given (set by main), for messages that tell how to rerun.
void set_command_line(int argc, char** argv);
const std::string& command_line();

}  // namespace preimage::tools

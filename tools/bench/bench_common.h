#pragma once
// Shared pieces of the benchmark programs (tools/bench/, not tests): timing statistics over repeated runs, the
// machine's load, argument parsing, the table / JSON report, process CPU time, and the PyTorch child process that
// bench_cnn and bench_decoder drive over a pipe. Figures are milliseconds of wall time.
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/atomic_file.h"
#include "engine/error.h"

namespace preimage::bench {

struct Stats {
  double median = 0, p10 = 0, p90 = 0;  // milliseconds
  int runs = 0;
};

// Nearest-rank percentiles of the sorted samples.
inline Stats stats_of(std::vector<double> ms) {
  Stats s;
  s.runs = static_cast<int>(ms.size());
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    const size_t i = static_cast<size_t>(std::min<double>(ms.size() - 1, std::max(0.0, p * ms.size() - 0.5)));
    return ms[i];
  };
  s.median = ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
  s.p10 = pct(0.10);
  s.p90 = pct(0.90);
  return s;
}

inline double time_ms(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Ours and the peer timed in turn (A B A B ...) after `warmup` untimed rounds, so that a drift of the machine's
// speed affects both alike; the ratio is taken per pair and its median reported.
struct Paired {
  Stats ours, peer, ratio;  // ratio = peer / ours (> 1: ours is faster)
};
inline Paired time_paired(const std::function<void()>& ours, const std::function<void()>& peer, int warmup,
                          int runs) {
  for (int i = 0; i < warmup; ++i) {
    ours();
    if (peer) peer();
  }
  std::vector<double> a, b, r;
  for (int i = 0; i < runs; ++i) {
    a.push_back(time_ms(ours));
    if (peer) {
      b.push_back(time_ms(peer));
      r.push_back(b.back() / a.back());
    }
  }
  return {stats_of(a), stats_of(b), stats_of(r)};
}

// 1-minute load average (/proc/loadavg), -1 if unreadable.
inline double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

inline std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

// --name value options; unknown options are an error.
struct Args {
  std::vector<std::pair<std::string, std::string>> values;
  Args(int argc, char** argv, const std::vector<std::string>& known, const char* usage) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        std::printf("%s", usage);
        std::exit(0);
      }
      if (std::find(known.begin(), known.end(), a) == known.end() || i + 1 >= argc) {
        std::fprintf(stderr, "unknown option or missing value: %s\n%s", a.c_str(), usage);
        std::exit(2);
      }
      values.emplace_back(a, argv[++i]);
    }
  }
  std::string get(const std::string& name, const std::string& fallback) const {
    for (const auto& [k, v] : values)
      if (k == name) return v;
    return fallback;
  }
  int get_int(const std::string& name, int fallback) const { return std::stoi(get(name, std::to_string(fallback))); }
};

// Whole or not at all (engine/atomic_file.h): an interrupted bench leaves the previous results file intact.
inline void write_json_file(const std::string& path, const nlohmann::json& j) {
  if (path.empty()) return;
  try {
    write_file_atomic(path, j.dump(2) + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::exit(1);
  }
}

// Process CPU time of f in ms (all threads): unlike wall time, it does not count the time other processes take the
// cores away, so a per-layer profile stays readable on a busy machine (at 1 thread it is the work done).
inline double cpu_ms(const std::function<void()>& f) {
  timespec a{}, b{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  f();
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
  return 1e3 * double(b.tv_sec - a.tv_sec) + 1e-6 * double(b.tv_nsec - a.tv_nsec);
}

// The PyTorch child: `python script args...` started with its stdin and stdout on pipes; commands go to its stdin,
// one JSON line comes back per command on its stdout (its stderr stays ours, so its errors are seen). The first line
// it prints on start is kept as hello(). `program` prefixes the error messages ("bench_cnn").
class TorchPeer {
 public:
  TorchPeer(const std::string& program, const std::string& python, const std::string& script,
            const std::vector<std::string>& script_args)
      : program_(program) {
    int to_child[2], from_child[2];
    PI_CHECK(pipe(to_child) == 0 && pipe(from_child) == 0, program_, ": pipe() failed");
    std::vector<std::string> argv_s = {python, script};
    argv_s.insert(argv_s.end(), script_args.begin(), script_args.end());
    std::vector<char*> argv_c;
    for (std::string& a : argv_s) argv_c.push_back(a.data());
    argv_c.push_back(nullptr);
    pid_ = fork();
    PI_CHECK(pid_ >= 0, program_, ": fork() failed");
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      close(to_child[1]);
      close(from_child[0]);
      execv(python.c_str(), argv_c.data());
      std::perror((program_ + ": exec of the python interpreter").c_str());
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    in_ = fdopen(to_child[1], "w");
    out_ = fdopen(from_child[0], "r");
    hello_ = read_answer("start");
  }
  ~TorchPeer() {
    std::fprintf(in_, "quit\n");
    std::fclose(in_);
    std::fclose(out_);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  TorchPeer(const TorchPeer&) = delete;
  TorchPeer& operator=(const TorchPeer&) = delete;

  nlohmann::json command(const std::string& line) {
    std::fprintf(in_, "%s\n", line.c_str());
    std::fflush(in_);
    return read_answer(line);
  }
  const nlohmann::json& hello() const { return hello_; }

 private:
  nlohmann::json read_answer(const std::string& what) {
    std::string line;
    for (int ch; (ch = std::fgetc(out_)) != EOF && ch != '\n';) line.push_back(static_cast<char>(ch));
    PI_CHECK(!line.empty(), program_, ": the PyTorch process gave no answer to '", what,
             "' (see its error above; run with --torch 0 to time ours alone)");
    return nlohmann::json::parse(line);
  }
  std::string program_;
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
  nlohmann::json hello_;
};

}  // namespace preimage::bench

// `preimage merge SHARD_DIR... --out DIR`: joins the output folders of `invert` or `features` runs over the shards
// of one folder (`--shard i/n`, docs/scale.md) into one folder, as one run over the whole folder would have written
// it: every shard's files, one metrics.json with the entries of all shards in the folder's order, one config.json
// and one index.html. Refuses shards of different runs (settings other than the shard, threads, batch) and an
// incomplete or repeated set of shards.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "tools/preimage/commands.h"
#include "tools/preimage/folder_run.h"
#include "tools/preimage/gallery.h"
#include "tools/preimage/run_common.h"

namespace preimage::tools {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct MergeOptions {
  std::vector<std::string> shards;
  std::string out = "out/merged";
};

// What two shards of one run may differ in, besides the comparable_config fields: the shard itself and the
// run's environment (program version and CPU code path do not change a result: the paths are bit for bit equal).
json run_settings(json config) {
  config = comparable_config(std::move(config));
  for (const char* k : {"shard", "cpu_isa", "version", "git"}) config.erase(k);
  return config;
}

std::string first_difference(const json& a, const json& b) {
  for (auto it = a.begin(); it != a.end(); ++it)
    if (!b.contains(it.key()) || b[it.key()] != *it) return it.key();
  for (auto it = b.begin(); it != b.end(); ++it)
    if (!a.contains(it.key())) return it.key();
  return "";
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  PI_CHECK(f.good(), p.string(), ": cannot read");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

int run_merge(const MergeOptions& o) {
  PI_CHECK(!o.shards.empty(), "merge: give the output folders of the shards");
  std::vector<json> configs, metrics;
  for (const std::string& dir : o.shards) {
    PI_CHECK(fs::is_directory(dir), "merge: ", dir, ": not a folder");
    PI_CHECK(fs::weakly_canonical(dir) != fs::weakly_canonical(o.out), "merge: --out ", o.out,
             " is one of the shards; write the merged folder elsewhere");
    configs.push_back(read_json_file((fs::path(dir) / "config.json").string()));
    metrics.push_back(read_json_file((fs::path(dir) / "metrics.json").string()));
  }
  const json& c0 = configs[0];
  const std::string command = c0.value("command", "");
  PI_CHECK(command == "invert" || command == "features", "merge: ", o.shards[0], " is the output of `", command,
           "`; merge joins `invert` and `features` runs (decode's normalised error needs every pair of originals; "
           "run it over the whole folder)");
  PI_CHECK(c0.contains("shard") && c0["shard"].is_object(), "merge: ", o.shards[0],
           " is not a shard (its run had no --shard i/n)");
  const int count = c0["shard"]["count"].get<int>();
  std::map<int, std::string> seen;
  for (size_t k = 0; k < configs.size(); ++k) {
    const json& c = configs[k];
    PI_CHECK(c.contains("shard") && c["shard"].is_object(), "merge: ", o.shards[k],
             " is not a shard (its run had no --shard i/n)");
    PI_CHECK(c.value("input", json()) == c0.value("input", json()), "merge: ", o.shards[k], " processed ",
             c.value("input", json()).dump(), ", ", o.shards[0], " processed ", c0.value("input", json()).dump());
    const std::string diff = first_difference(run_settings(c), run_settings(c0));
    PI_CHECK(diff.empty(), "merge: ", o.shards[k], " and ", o.shards[0], " were run with other settings (\"", diff,
             "\" differs in config.json)");
    const int i = c["shard"]["index"].get<int>(), n = c["shard"]["count"].get<int>();
    PI_CHECK(n == count, "merge: ", o.shards[k], " is shard ", i, "/", n, ", ", o.shards[0], " one of ", count);
    PI_CHECK(!seen.count(i), "merge: ", o.shards[k], " and ", seen[i], " are both shard ", i, "/", count);
    seen[i] = o.shards[k];
  }
  std::string missing;
  for (int i = 0; i < count; ++i)
    if (!seen.count(i)) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  PI_CHECK(missing.empty(), "merge: shards ", missing, " of ", count, " are missing");
  // An unfinished shard would leave its inputs out silently.
  for (size_t k = 0; k < configs.size(); ++k)
    PI_CHECK(metrics[k]["images"].size() == configs[k]["files"].size(), "merge: ", o.shards[k], " finished ",
             metrics[k]["images"].size(), " of its ", configs[k]["files"].size(),
             " inputs; complete it with --resume first");

  prepare_output_dir(o.out);
  // Every file of every shard (reconstructions, renderings, sheets, snapshots), each written whole.
  std::map<std::string, std::string> origin;  // relative path -> shard
  for (const std::string& dir : o.shards) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      const std::string rel = fs::relative(e.path(), dir).string();
      const std::string name = e.path().filename().string();
      if (rel == "config.json" || rel == "metrics.json" || rel == "index.html" || name.rfind(".tmp.", 0) == 0)
        continue;
      PI_CHECK(!origin.count(rel), "merge: ", rel, " is in both ", origin[rel], " and ", dir);
      origin[rel] = dir;
      const fs::path dst = fs::path(o.out) / rel;
      fs::create_directories(dst.parent_path());
      write_file_atomic(dst.string(), read_bytes(e.path()));
    }
  }
  // The entries in the whole folder's order (the sorted paths, as collect_images lists them).
  std::vector<json> entries;
  std::vector<std::string> files;
  for (const json& m : metrics)
    for (const json& e : m["images"]) entries.push_back(e);
  std::sort(entries.begin(), entries.end(),
            [](const json& a, const json& b) { return a["file"].get<std::string>() < b["file"].get<std::string>(); });
  for (const json& e : entries) files.push_back(e["file"].get<std::string>());
  int failures = 0;
  for (const json& e : entries) failures += is_failure(e);

  json config = c0;
  config.erase("shard");
  config["files"] = files;
  config["merged_from"] = o.shards;
  write_json((fs::path(o.out) / "config.json").string(), config);
  json merged = metrics[0];
  merged["images"] = entries;
  merged["failures"] = failures;
  write_json((fs::path(o.out) / "metrics.json").string(), merged);
  const std::string index = (fs::path(o.out) / "index.html").string();
  write_gallery(index, "preimage " + command + " (merged from " + std::to_string(count) + " shards)",
                gallery_rows(entries), config);
  std::fprintf(stderr, "merge: %d shards, %zu inputs (%d failed) -> %s\n", count, entries.size(), failures,
               index.c_str());
  return failures ? kExitSomeFailed : kExitOk;
}

}  // namespace

void register_merge(CLI::App& app) {
  auto o = std::make_shared<MergeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "Join the output folders of `invert` or `features` runs over the shards of one folder (--shard i/n) into one "
      "folder: every shard's files, one metrics.json in the folder's order, config.json and index.html, as one run "
      "over the whole folder writes them (docs/scale.md). Refuses shards of different runs, a missing or repeated "
      "shard, and an unfinished one.");
  cmd->add_option("shards", o->shards, "the shards' output folders")->required();
  cmd->add_option("--out", o->out, "merged output folder")->capture_default_str();
  cmd->callback([o] { set_exit_code(run_merge(*o)); });
}

}  // namespace preimage::tools

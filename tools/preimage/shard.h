#pragma once
// --shard i/n: the share of a folder that job i of n processes (docs/scale.md), and the checks `preimage merge`
// makes before joining the shards' outputs.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace preimage::tools {

struct Shard {
  int index = 0, count = 1;  // job `index` of `count`, 0-based (a Slurm array task id)
  bool active() const { return count > 1; }
};

// "" -> the whole folder; "i/n" with 0 <= i < n; anything else is refused with a message.
Shard parse_shard(const std::string& spec);
void add_shard_option(CLI::App* cmd, std::string* spec);

// The shard of a file: FNV-1a (64 bit) of its file name (not its folder) modulo n. A file's shard depends on its
// name alone, so files added to a folder later never move the others to another shard, and the same folder
// mounted at another path on another node splits alike.
int shard_of(const std::string& path, int count);
// The files of `files` that belong to shard s, in their order.
std::vector<std::string> select_shard(const std::vector<std::string>& files, const Shard& s);
// config.json's record of an active shard: {"index": i, "count": n, "rule": ...} (a run over the whole folder
// records none, so its config.json is what it was before shards existed and older runs still resume).
nlohmann::json shard_record(const Shard& s);

}  // namespace preimage::tools

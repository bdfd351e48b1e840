#include "tools/preimage/shard.h"

#include <cstdint>
#include <filesystem>

#include "engine/error.h"

namespace preimage::tools {

Shard parse_shard(const std::string& spec) {
  if (spec.empty()) return {};
  Shard s;
  const size_t slash = spec.find('/');
  bool ok = slash != std::string::npos && slash > 0 && slash + 1 < spec.size() &&
            spec.find_first_not_of("0123456789/") == std::string::npos && spec.find('/', slash + 1) == std::string::npos &&
            slash <= 6 && spec.size() - slash - 1 <= 6;
  if (ok) {
    s.index = std::stoi(spec.substr(0, slash));
    s.count = std::stoi(spec.substr(slash + 1));
    ok = s.count >= 1 && s.index < s.count;
  }
  PI_CHECK(ok, "--shard '", spec, "': expected i/n with 0 <= i < n (0-based, as a Slurm array task id), e.g. 0/4");
  return s;
}

void add_shard_option(CLI::App* cmd, std::string* spec) {
  cmd->add_option("--shard", *spec,
                  "process only shard i of n (0-based) of the input folder, chosen by a hash of each file name; "
                  "join the shards' output folders with `preimage merge` (docs/scale.md)");
}

int shard_of(const std::string& path, int count) {
  const std::string name = std::filesystem::path(path).filename().string();
  uint64_t h = 14695981039346656037ull;  // FNV-1a offset basis
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ull;  // FNV prime
  }
  return static_cast<int>(h % static_cast<uint64_t>(count));
}

std::vector<std::string> select_shard(const std::vector<std::string>& files, const Shard& s) {
  if (!s.active()) return files;
  std::vector<std::string> out;
  for (const std::string& f : files)
    if (shard_of(f, s.count) == s.index) out.push_back(f);
  return out;
}

nlohmann::json shard_record(const Shard& s) {
  if (!s.active()) return nullptr;
  return {{"index", s.index}, {"count", s.count}, {"rule", "FNV-1a 64 of the file name, modulo count"}};
}

}  // namespace preimage::tools

#pragma once
// The loaders under fuzz read files by path (as every command does), so each input is written to a file of this
// process in /dev/shm (a RAM disk: no disk traffic per execution) and the loader reads it back.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace preimage::fuzz {

// Writes data to /dev/shm/preimage_fuzz_<pid><suffix> (the suffix gives the extension a loader may look at);
// returns the path. Aborts when the RAM disk is not writable: a harness that reads nothing would fuzz nothing.
inline std::string input_file(const uint8_t* data, size_t size, const std::string& suffix) {
  const std::string path = "/dev/shm/preimage_fuzz_" + std::to_string(getpid()) + suffix;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

}  // namespace preimage::fuzz

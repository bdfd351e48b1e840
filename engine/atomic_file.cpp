#include "engine/atomic_file.h"

#include <filesystem>
#include <fstream>

#include "engine/error.h"

namespace preimage {
namespace fs = std::filesystem;

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const fs::path target(path);
  const fs::path tmp = target.parent_path() / (".tmp." + target.filename().string());
  std::error_code ec;
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    PI_CHECK(f.good(), path, ": cannot write (does the folder exist, is it writable?)");
    try {
      write(f);
    } catch (...) {
      f.close();
      fs::remove(tmp, ec);
      throw;
    }
    f.close();
    if (!f) {
      fs::remove(tmp, ec);
      fail(path, ": write failed (disk full?)");
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail(path, ": cannot move the finished file into place (", ec.message(), ")");
  }
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic(path, [&](std::ostream& f) { f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace preimage

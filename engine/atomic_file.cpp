#include "engine/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace preimage {
namespace fs = std::filesystem;

namespace {
// The system's reason for the last failed stream operation (errno survives the failing write or close).
std::string reason(int err) { return err ? std::strerror(err) : "unknown error"; }
}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const fs::path target(path);
  const fs::path tmp = target.parent_path() / (".tmp." + target.filename().string());
  std::error_code ec;
  {
    errno = 0;
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f.good())
      throw WriteError(path + ": cannot write (" + reason(errno) + "; does the folder exist, is it writable?)");
    // errno is read where the stream first fails: the failing write, flush or close sets it.
    errno = 0;
    try {
      write(f);
    } catch (...) {
      f.close();
      fs::remove(tmp, ec);
      throw;
    }
    int err = f ? 0 : errno;
    if (f) f.flush();
    if (!err && !f) err = errno;
    f.close();
    if (!err && !f) err = errno;
    if (!f) {
      fs::remove(tmp, ec);
      throw WriteError(path + ": write failed (" + reason(err) + "); nothing was written");
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    throw WriteError(path + ": cannot move the finished file into place (" + why + ")");
  }
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  write_file_atomic(path, [&](std::ostream& f) { f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace preimage

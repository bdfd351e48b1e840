#pragma once
// Writes a whole file or nothing (design decision 6): the content goes to a hidden temporary file in the same
// folder, which is renamed over the target only after it was written and closed successfully.
#include <functional>
#include <ostream>
#include <string>

#include "engine/error.h"

namespace preimage {

// A file could not be written (disk full, quota, unwritable folder): the message names the file and the system's
// reason. Folder runs stop at the first one (the next files would fail alike) instead of counting it against the
// input image (docs/reliability.md).
class WriteError : public Error {
 public:
  explicit WriteError(const std::string& what) : Error(what) {}
};

// Throws WriteError when the file cannot be written; the temporary file is removed and an existing target left as
// it was.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace preimage

#pragma once
// Writes a whole file or nothing (design decision 6): the content goes to a hidden temporary file in the same
// folder, which is renamed over the target only after it was written and closed successfully.
#include <functional>
#include <ostream>
#include <string>

namespace preimage {

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace preimage

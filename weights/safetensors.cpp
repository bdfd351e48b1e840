#include "weights/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "engine/atomic_file.h"
#include "engine/error.h"

namespace preimage {
namespace {
using json = nlohmann::json;

constexpr uint64_t kMaxHeader = 100u << 20;  // the spec's 100 MB cap on the JSON header

size_t dtype_size(const std::string& d) {
  if (d == "F32") return 4;
  if (d == "F64") return 8;
  if (d == "F16" || d == "BF16") return 2;
  return 0;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1u, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  float v;
  if (exp == 0)
    v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    v = std::ldexp(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

float bf16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& what) {
  PI_CHECK(b == 0 || a <= std::numeric_limits<uint64_t>::max() / b, what, ": size overflows");
  return a * b;
}
}  // namespace

SafetensorsFile read_safetensors(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  PI_CHECK(f.good(), path, ": cannot open safetensors file");
  f.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(f.tellg());
  f.seekg(0);
  PI_CHECK(file_size >= 8, path, ": not a safetensors file (shorter than its 8-byte header length)");
  uint8_t len_bytes[8];
  f.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  PI_CHECK(header_len >= 2 && header_len <= kMaxHeader && header_len <= file_size - 8, path,
           ": corrupt safetensors header length ", header_len, " (file has ", file_size, " bytes)");
  std::string header(header_len, '\0');
  f.read(&header[0], static_cast<std::streamsize>(header_len));
  PI_CHECK(f, path, ": truncated safetensors header");
  json h;
  try {
    h = json::parse(header);
  } catch (const json::exception& e) {
    fail(path, ": safetensors header is not valid JSON (", e.what(), ")");
  }
  PI_CHECK(h.is_object(), path, ": safetensors header is not a JSON object");
  const uint64_t data_size = file_size - 8 - header_len;

  struct Entry {
    std::string name, dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  SafetensorsFile out;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") {
      PI_CHECK(it->is_object(), path, ": __metadata__ must be an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        PI_CHECK(m->is_string(), path, ": metadata value for '", m.key(), "' is not a string");
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const json& t = *it;
    const std::string& name = it.key();
    PI_CHECK(t.is_object() && t.contains("dtype") && t.contains("shape") && t.contains("data_offsets"), path,
             ": tensor '", name, "' lacks dtype, shape or data_offsets");
    Entry e;
    e.name = name;
    PI_CHECK(t["dtype"].is_string(), path, ": tensor '", name, "' has a non-string dtype");
    e.dtype = t["dtype"].get<std::string>();
    const size_t esize = dtype_size(e.dtype);
    PI_CHECK(esize > 0, path, ": tensor '", name, "' has unsupported dtype ", e.dtype, " (F32, F64, F16, BF16)");
    PI_CHECK(t["shape"].is_array() && t["shape"].size() <= Shape::kMaxDims, path, ": tensor '", name,
             "' has a bad shape");
    uint64_t numel = 1;
    for (const json& d : t["shape"]) {
      PI_CHECK(d.is_number_unsigned(), path, ": tensor '", name, "' has a negative or non-integer dimension");
      const uint64_t dim = d.get<uint64_t>();
      PI_CHECK(dim <= (uint64_t{1} << 40), path, ": tensor '", name, "' dimension too large");
      e.shape.push_back(static_cast<int64_t>(dim));
      numel = checked_mul(numel, dim, path + ": tensor '" + name + "'");
    }
    const json& off = t["data_offsets"];
    PI_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() && off[1].is_number_unsigned(), path,
             ": tensor '", name, "' has bad data_offsets");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    PI_CHECK(e.begin <= e.end && e.end <= data_size, path, ": tensor '", name, "' data_offsets [", e.begin, ", ",
             e.end, "] fall outside the ", data_size, "-byte data buffer (truncated file?)");
    const uint64_t bytes = checked_mul(numel, esize, path + ": tensor '" + name + "'");
    PI_CHECK(e.end - e.begin == bytes, path, ": tensor '", name, "' has ", e.end - e.begin, " bytes but its shape and ",
             e.dtype, " need ", bytes);
    entries.push_back(std::move(e));
  }
  // By (begin, end): an empty tensor at the offset where a non-empty one starts comes first.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t covered = 0;
  for (const Entry& e : entries) {
    PI_CHECK(e.begin == covered, path, ": tensor '", e.name, "' overlaps another or leaves a hole in the data buffer");
    covered = e.end;
  }
  PI_CHECK(covered == data_size, path, ": data buffer has ", data_size - covered, " unaccounted bytes");

  for (const Entry& e : entries) {
    std::vector<char> raw(e.end - e.begin);
    f.seekg(static_cast<std::streamoff>(8 + header_len + e.begin));
    f.read(raw.data(), static_cast<std::streamsize>(raw.size()));
    PI_CHECK(f, path, ": truncated while reading tensor '", e.name, "'");
    Tensor t = Tensor::empty(Shape::of(e.shape.data(), static_cast<int>(e.shape.size())));
    const int64_t n = t.numel();
    float* dst = t.data();
    if (raw.empty()) {
      // a tensor with a zero dimension: nothing to copy (memcpy from an empty vector's null data is undefined;
      // found by tests/fuzz/fuzz_safetensors)
    } else if (e.dtype == "F32") {
      std::memcpy(dst, raw.data(), raw.size());
    } else if (e.dtype == "F64") {
      for (int64_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, raw.data() + 8 * i, 8);
        dst[i] = static_cast<float>(v);
      }
    } else {
      const bool bf = e.dtype == "BF16";
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, raw.data() + 2 * i, 2);
        dst[i] = bf ? bf16_to_float(v) : half_to_float(v);
      }
    }
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, View>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json h = json::object();
  uint64_t offset = 0;
  for (const auto& [name, v] : tensors) {
    PI_CHECK(v.device == Device::cpu && v.contiguous(), "write_safetensors: tensor '", name,
             "' must be a contiguous host tensor");
    PI_CHECK(name != "__metadata__" && !h.contains(name), "write_safetensors: duplicate or reserved name '", name,
             "'");
    std::vector<int64_t> shape;
    for (int i = 0; i < v.shape.ndim(); ++i) shape.push_back(v.shape[i]);
    const uint64_t bytes = static_cast<uint64_t>(v.numel()) * 4;
    h[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) h["__metadata__"] = metadata;
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // keep the data buffer 8-byte aligned, as the spec suggests

  write_file_atomic(path, [&](std::ostream& f) {
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
    f.write(reinterpret_cast<const char*>(len), 8);
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& kv : tensors)
      f.write(reinterpret_cast<const char*>(kv.second.data), static_cast<std::streamsize>(kv.second.numel() * 4));
  });
}

}  // namespace preimage

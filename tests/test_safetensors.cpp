// safetensors reader/writer: round trip, dtype conversion, and validation of corrupt files.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "weights/safetensors.h"

using namespace preimage;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / "preimage_test_safetensors";
  fs::create_directories(d);
  return d;
}

// Writes a raw safetensors file: header JSON as given, then `data` bytes.
std::string raw_file(const std::string& name, const std::string& header, const std::string& data,
                     int64_t header_len_override = -1) {
  const std::string path = (temp_dir() / name).string();
  std::ofstream f(path, std::ios::binary);
  uint64_t n = header_len_override >= 0 ? static_cast<uint64_t>(header_len_override) : header.size();
  for (int i = 0; i < 8; ++i) f.put(static_cast<char>((n >> (8 * i)) & 0xff));
  f << header << data;
  return path;
}
}  // namespace

TEST_CASE("safetensors round trip keeps shapes, values and metadata", "[safetensors]") {
  Tensor a = Tensor::from({1.5f, -2, 3, 4, 5, 6}, Shape{1, 2, 3});
  Tensor b = Tensor::from({42}, Shape{1});
  const std::string path = (temp_dir() / "round.safetensors").string();
  write_safetensors(path, {{"features", a.view()}, {"scalar", b.view()}}, {{"layout", "NCHW"}});
  SafetensorsFile f = read_safetensors(path);
  REQUIRE(f.tensors.size() == 2);
  REQUIRE(f.tensors.at("features").shape() == Shape({1, 2, 3}));
  REQUIRE(f.tensors.at("features").to_vector() == a.to_vector());
  REQUIRE(f.tensors.at("scalar").to_vector() == b.to_vector());
  REQUIRE(f.metadata.at("layout") == "NCHW");
}

TEST_CASE("safetensors reads tensors with a zero dimension", "[safetensors]") {
  // Found by tests/fuzz/fuzz_safetensors under UBSan: the empty tensor's copy passed a null pointer to memcpy.
  const std::string path = raw_file("empty_dim.safetensors",
                                    R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},)"
                                    R"("h":{"dtype":"F16","shape":[0],"data_offsets":[0,0]},)"
                                    R"("x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                                    std::string("\0\0\x80\x3f", 4));
  SafetensorsFile f = read_safetensors(path);
  REQUIRE(f.tensors.at("e").shape() == Shape({0, 4}));
  REQUIRE(f.tensors.at("h").numel() == 0);
  REQUIRE(f.tensors.at("x").to_vector() == std::vector<float>{1.0f});
}

TEST_CASE("safetensors converts F16, BF16 and F64 to float32", "[safetensors]") {
  // 1.0 and -2.5 in each encoding, little endian
  const std::string f16("\x00\x3c\x00\xc1", 4);
  const std::string bf16("\x80\x3f\x20\xc0", 4);
  double d[2] = {1.0, -2.5};
  const std::string f64(reinterpret_cast<const char*>(d), 16);
  const std::string header =
      R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},)"
      R"("d":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}})";
  SafetensorsFile f = read_safetensors(raw_file("dtypes.safetensors", header, f16 + bf16 + f64));
  for (const char* k : {"h", "b", "d"}) REQUIRE(f.tensors.at(k).to_vector() == std::vector<float>{1.0f, -2.5f});
}

TEST_CASE("corrupt safetensors files are rejected with a clear error", "[safetensors][errors]") {
  const std::string ok_header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string data(8, '\0');
  REQUIRE_NOTHROW(read_safetensors(raw_file("ok.safetensors", ok_header, data)));
  REQUIRE_THROWS_WITH(read_safetensors(raw_file("short.safetensors", ok_header, data.substr(0, 4))),
                      Catch::Contains("outside"));
  REQUIRE_THROWS_WITH(read_safetensors(raw_file("len.safetensors", ok_header, data, 1 << 20)),
                      Catch::Contains("header length"));
  REQUIRE_THROWS_WITH(read_safetensors(raw_file("json.safetensors", "{\"w\": [", data)), Catch::Contains("JSON"));
  REQUIRE_THROWS_WITH(
      read_safetensors(raw_file("dtype.safetensors", R"({"w":{"dtype":"I8","shape":[8],"data_offsets":[0,8]}})", data)),
      Catch::Contains("unsupported dtype"));
  REQUIRE_THROWS_WITH(
      read_safetensors(raw_file("size.safetensors", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data)),
      Catch::Contains("need 12"));
  REQUIRE_THROWS_WITH(read_safetensors(raw_file("overlap.safetensors",
                                                R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                                R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                                data)),
                      Catch::Contains("overlaps"));
  REQUIRE_THROWS_WITH(read_safetensors(raw_file("extra.safetensors", ok_header, data + "xxxx")),
                      Catch::Contains("unaccounted"));
  REQUIRE_THROWS_WITH(read_safetensors(raw_file(
                          "overflow.safetensors",
                          R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})", data)),
                      Catch::Contains("overflow"));
  REQUIRE_THROWS_WITH(read_safetensors(raw_file("neg.safetensors",
                                                R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data)),
                      Catch::Contains("negative"));
  REQUIRE_THROWS_WITH(read_safetensors((temp_dir() / "none.safetensors").string()), Catch::Contains("cannot open"));
}

// The golden-file reader (tests/support.h) refuses malformed files quickly and with a message.
#include <catch2/catch.hpp>

#include <filesystem>

#include "support.h"

using namespace preimage;

TEST_CASE("golden reader: a file declaring more values than it holds is refused before allocating", "[golden]") {
  // Found by tests/fuzz/fuzz_golden: 66 bytes declaring a 2^27-value tensor took over 10 s to read.
  const std::string path =
      (std::filesystem::path(PREIMAGE_TEST_DATA) / "fuzz_found" / "golden_huge_dims.bin").string();
  REQUIRE(std::filesystem::file_size(path) < 1000);
  REQUIRE_THROWS_WITH(test::read_golden_file(path), Catch::Contains("more values than the file holds"));
}

// The decoder tables (layers/decoders.h): every row's output at the papers' sizes, the up-convolution as seed 002
// defines it, gradient checks of the blocks in double, width scaling and He initialisation.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/error.h"
#include "engine/ops.h"
#include "kernels/activation.h"
#include "kernels/conv2d.h"
#include "layers/decoders.h"
#include "support.h"

using namespace preimage;
using layers::decoder_output_shapes;
using layers::decoder_table;

namespace {
struct Row {
  const char* name;
  int64_t c, h, w;  // OutSize as printed: h x w x c
};

void check_table(const std::string& table, const Shape& input, const std::vector<Row>& rows) {
  INFO(table);
  const layers::DecoderTable t = decoder_table(table);
  const std::vector<Shape> out = decoder_output_shapes(t, 1.0, input);
  REQUIRE(out.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO(rows[i].name);
    CHECK(t.rows[i].name == rows[i].name);
    if (rows[i].h == 0) {
      CHECK(out[i] == Shape{input[0], rows[i].c});
    } else {
      CHECK(out[i] == Shape{input[0], rows[i].c, rows[i].h, rows[i].w});
    }
  }
}
}  // namespace

TEST_CASE("decoder tables give every row's OutSize of seed 003 Tables 2-6 at the papers' input sizes",
          "[decoders][shapes]") {
  check_table("hog", Shape{2, 31, 32, 32},
              {{"convA1", 256, 16, 16}, {"convA2", 512, 8, 8},     {"convA3", 1024, 4, 4},  {"upconvA1", 512, 8, 8},
               {"upconvA2", 256, 16, 16}, {"upconvA3", 128, 32, 32}, {"convB1", 128, 32, 32}, {"convB2", 128, 32, 32},
               {"convJ1", 256, 32, 32}, {"convJ2", 128, 32, 32},   {"upconvJ4", 64, 64, 64},
               {"upconvJ5", 32, 128, 128}, {"upconvJ6", 3, 256, 256}});
  check_table("sift", Shape{1, 133, 64, 64},
              {{"conv1", 256, 32, 32}, {"conv2", 512, 16, 16},    {"conv3", 1024, 8, 8},   {"conv4", 2048, 4, 4},
               {"conv5", 2048, 4, 4},  {"conv6", 1024, 4, 4},     {"upconv1", 512, 8, 8},  {"upconv2", 256, 16, 16},
               {"upconv3", 128, 32, 32}, {"upconv4", 64, 64, 64}, {"upconv5", 32, 128, 128},
               {"upconv6", 3, 256, 256}});
  // Dense SIFT (ours): Table 3's rows on 128 channels.
  check_table("dsift", Shape{1, 128, 64, 64},
              {{"conv1", 256, 32, 32}, {"conv2", 512, 16, 16},    {"conv3", 1024, 8, 8},   {"conv4", 2048, 4, 4},
               {"conv5", 2048, 4, 4},  {"conv6", 1024, 4, 4},     {"upconv1", 512, 8, 8},  {"upconv2", 256, 16, 16},
               {"upconv3", 128, 32, 32}, {"upconv4", 64, 64, 64}, {"upconv5", 32, 128, 128},
               {"upconv6", 3, 256, 256}});
  check_table("lbp", Shape{1, 58, 16, 16},
              {{"convA1", 256, 8, 8},    {"convA2", 512, 4, 4},     {"convA3", 1024, 4, 4},  {"upconvA1", 512, 8, 8},
               {"upconvA2", 256, 16, 16}, {"convB1", 128, 16, 16},  {"convB2", 128, 16, 16}, {"convJ1", 256, 16, 16},
               {"convJ2", 128, 16, 16},  {"upconvJ3", 128, 32, 32}, {"upconvJ4", 64, 64, 64},
               {"upconvJ5", 32, 128, 128}, {"upconvJ6", 3, 256, 256}});
  check_table("alexnet-conv5", Shape{1, 256, 6, 6},
              {{"conv1", 256, 6, 6},     {"conv2", 256, 6, 6},      {"conv3", 256, 6, 6},    {"upconv1", 256, 12, 12},
               {"upconv2", 128, 24, 24}, {"upconv3", 64, 48, 48},   {"upconv4", 32, 96, 96}, {"upconv5", 3, 192, 192}});
  const std::vector<Row> fc_rows = {{"fc1", 4096, 0, 0},      {"fc2", 4096, 0, 0},       {"fc3", 4096, 0, 0},
                                    {"reshape", 256, 4, 4},   {"upconv1", 256, 8, 8},    {"upconv2", 128, 16, 16},
                                    {"upconv3", 64, 32, 32},  {"upconv4", 32, 64, 64},   {"upconv5", 3, 128, 128}};
  check_table("alexnet-fc8", Shape{1, 1000}, fc_rows);
  check_table("alexnet-fc8", Shape{1, 1000, 1, 1}, fc_rows);
  check_table("alexnet-fc7", Shape{1, 4096}, fc_rows);
  check_table("alexnet-fc6", Shape{1, 4096}, fc_rows);
  // Seed 002 sect. 2.2, no printed table: three convolutions and as many up-convolutions as the stride needs.
  check_table("alexnet-conv1", Shape{1, 96, 27, 27},
              {{"conv1", 256, 27, 27}, {"conv2", 256, 27, 27}, {"conv3", 256, 27, 27}, {"upconv1", 64, 54, 54},
               {"upconv2", 32, 108, 108}, {"upconv3", 3, 216, 216}});
  for (const char* t : {"alexnet-conv2", "alexnet-conv3", "alexnet-conv4"})
    check_table(t, Shape{1, t == std::string("alexnet-conv2") ? 256 : 384, 13, 13},
                {{"conv1", 256, 13, 13},   {"conv2", 256, 13, 13},    {"conv3", 256, 13, 13},
                 {"upconv1", 128, 26, 26}, {"upconv2", 64, 52, 52},   {"upconv3", 32, 104, 104},
                 {"upconv4", 3, 208, 208}});
}

TEST_CASE("decoder InSize of the joins and the weight layouts", "[decoders][shapes]") {
  // convJ1 of Table 2 reads 32 x 32 x 256 (upconvA3 128 + convB2 128); Table 4's reads 16 x 16 x 384.
  const layers::Decoder hog(decoder_table("hog"), 0.25, Shape{31, 8, 8});
  const layers::Decoder lbp(decoder_table("lbp"), 0.25, Shape{58, 4, 4});
  auto shape_of = [](const layers::Decoder& d, const std::string& name) {
    for (const auto& [n, s] : d.parameter_shapes())
      if (n == name) return s;
    FAIL("no parameter " << name);
    return Shape{};
  };
  CHECK(shape_of(hog, "convJ1.weight") == Shape{64, 64, 3, 3});
  CHECK(shape_of(lbp, "convJ1.weight") == Shape{64, 96, 3, 3});
  CHECK(shape_of(hog, "upconvA1.weight") == Shape{256, 128, 4, 4});  // conv_transpose2d layout [in, out, K, K]
  CHECK(shape_of(hog, "upconvJ6.weight") == Shape{8, 3, 4, 4});      // the image keeps 3 channels
  CHECK(hog.output_shape(5) == Shape{5, 3, 64, 64});
  const layers::Decoder fc(decoder_table("alexnet-fc8"), 0.3, Shape{1000});
  // fc3 feeds the reshape: exactly its 77 x 4 x 4 elements although round(4096 * 0.3) = 1229.
  CHECK(shape_of(fc, "fc3.weight") == Shape{77 * 16, 1229});
}

TEST_CASE("decoder shapes reject inputs at which the streams cannot meet", "[decoders][shapes][errors]") {
  const layers::DecoderTable t = decoder_table("hog");
  // 96 x 96 images: HOG 12 x 12, stream A 12 -> 6 -> 3 -> 2 -> 4 -> 8 -> 16 != 12.
  CHECK_THROWS_WITH(decoder_output_shapes(t, 1.0, Shape{1, 31, 12, 12}), Catch::Contains("multiple of 64"));
  CHECK_THROWS_WITH(decoder_output_shapes(t, 1.0, Shape{1, 36, 8, 8}), Catch::Contains("takes [N, 31, H, W]"));
  CHECK_THROWS_WITH(decoder_output_shapes(t, 0.0, Shape{1, 31, 8, 8}), Catch::Contains("width"));
  CHECK_THROWS_WITH(decoder_table("hog3"), Catch::Contains("known: hog, sift"));
}

TEST_CASE("decoder up-convolution is x2 zero insertion (value top-left) then a K x K convolution",
          "[decoders][upconv]") {
  // seed 002 sect. 2.2, computed literally in double and compared with the decoder's transposed convolution.
  for (int k : {4, 5}) {
    INFO("K = " << k);
    const int64_t n = 2, c = 3, o = 2, h = 3, w = 4;
    const std::vector<double> x = test::random_vector(size_t(n * c * h * w), 1),
                              wt = test::random_vector(size_t(c * o * k * k), 2), b = test::random_vector(2, 3);
    // Zero insertion: [N, C, 2H, 2W], x[i, j] at (2i, 2j), zeros elsewhere (including the last row and column).
    std::vector<double> z(size_t(n * c * 4 * h * w), 0.0);
    for (int64_t nc = 0; nc < n * c; ++nc)
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) z[size_t((nc * 2 * h + 2 * i) * 2 * w + 2 * j)] = x[size_t((nc * h + i) * w + j)];
    // The convolution's kernel [O, C, K, K]: the transposed convolution's [C, O, K, K], flipped in both axes.
    std::vector<double> wc(wt.size());
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t oi = 0; oi < o; ++oi)
        for (int u = 0; u < k; ++u)
          for (int v = 0; v < k; ++v)
            wc[size_t(((oi * c + ci) * k + u) * k + v)] = wt[size_t(((ci * o + oi) * k + (k - 1 - u)) * k + (k - 1 - v))];
    const int p0 = layers::upconv_zero_insertion_pad(k);
    const kernels::Conv2dParams cp{1, 1, p0, k - 1 - p0, p0, k - 1 - p0, 1};
    const kernels::Conv2dGeometry cg = kernels::conv2d_geometry("test", Shape{n, c, 2 * h, 2 * w}, Shape{o, c, k, k}, cp);
    REQUIRE(cg.ho == 2 * h);
    REQUIRE(cg.wo == 2 * w);
    std::vector<double> want(size_t(n * o * 4 * h * w));
    kernels::ref::conv2d_forward<double>(cg, z.data(), wc.data(), b.data(), want.data());

    const kernels::ConvTranspose2dGeometry tg = kernels::conv_transpose2d_geometry(
        "test", Shape{n, c, h, w}, Shape{c, o, k, k}, layers::upconv_transpose_params(k));
    REQUIRE(tg.ho == 2 * h);
    REQUIRE(tg.wo == 2 * w);
    std::vector<double> got(want.size());
    kernels::ref::conv_transpose2d_forward<double>(tg, x.data(), wt.data(), b.data(), got.data());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
    CHECK(worst < 1e-12);
  }
}

TEST_CASE("decoder blocks' gradients match finite differences in double", "[decoders][gradcheck]") {
  const double slope = 0.2;
  // Up-convolution block: leaky_relu(upconv(x)) with the decoder's K = 4 padding. x [2, 3, 3, 3], w [3, 2, 4, 4].
  {
    const Shape xs{2, 3, 3, 3}, ws{3, 2, 4, 4};
    const kernels::ConvTranspose2dGeometry g =
        kernels::conv_transpose2d_geometry("test", xs, ws, layers::upconv_transpose_params(4));
    const size_t ny = size_t(g.n * g.k * g.ho * g.wo);
    test::GradCheckOp op;
    op.inputs = {test::random_vector(size_t(xs.numel()), 4), test::random_vector(size_t(ws.numel()), 5),
                 test::random_vector(2, 6)};
    op.differentiable = {true, true, true};
    op.output_size = ny;
    auto pre = std::make_shared<std::vector<double>>(ny);
    op.forward = [=](const std::vector<const double*>& in, double* y) {
      kernels::ref::conv_transpose2d_forward<double>(g, in[0], in[1], in[2], pre->data());
      kernels::ref::leaky_relu_forward<double>(pre->data(), y, int64_t(ny), slope);
    };
    op.backward = [=](const std::vector<const double*>& in, const double* d_y, const std::vector<double*>& d) {
      kernels::ref::conv_transpose2d_forward<double>(g, in[0], in[1], in[2], pre->data());
      std::vector<double> d_pre(ny, 0.0);
      kernels::ref::leaky_relu_backward<double>(pre->data(), d_y, d_pre.data(), int64_t(ny), slope);
      kernels::ref::conv_transpose2d_backward<double>(g, in[0], in[1], d_pre.data(), d[0], d[1], d[2]);
    };
    const test::GradCheckResult r = test::grad_check(op);
    INFO(r.worst);
    CHECK(r.checked > 50);
    CHECK(r.max_error < 1e-6);
  }
  // Join block: leaky_relu(conv3x3(concat(a, b))) as convJ1, through the tape's concat in float compared with the
  // double reference on the concatenated input (concat is a copy, so the float result is exact up to the conv).
  {
    const Shape as{1, 2, 4, 4}, bs{1, 3, 4, 4}, ws{4, 5, 3, 3};
    const kernels::Conv2dParams p = kernels::Conv2dParams::symmetric(1, 1);
    const kernels::Conv2dGeometry g = kernels::conv2d_geometry("test", Shape{1, 5, 4, 4}, ws, p);
    const size_t ny = size_t(g.n * g.k * g.ho * g.wo), na = size_t(as.numel()), nb = size_t(bs.numel());
    test::GradCheckOp op;
    op.inputs = {test::random_vector(na, 7), test::random_vector(nb, 8), test::random_vector(size_t(ws.numel()), 9),
                 test::random_vector(4, 10)};
    op.differentiable = {true, true, true, true};
    op.output_size = ny;
    auto cat = [=](const double* a, const double* b) {  // [1, 5, 4, 4] = channels of a then b
      std::vector<double> x(na + nb);
      std::copy(a, a + na, x.begin());
      std::copy(b, b + nb, x.begin() + long(na));
      return x;
    };
    auto pre = std::make_shared<std::vector<double>>(ny);
    op.forward = [=](const std::vector<const double*>& in, double* y) {
      const std::vector<double> x = cat(in[0], in[1]);
      kernels::ref::conv2d_forward<double>(g, x.data(), in[2], in[3], pre->data());
      kernels::ref::leaky_relu_forward<double>(pre->data(), y, int64_t(ny), slope);
    };
    op.backward = [=](const std::vector<const double*>& in, const double* d_y, const std::vector<double*>& d) {
      const std::vector<double> x = cat(in[0], in[1]);
      kernels::ref::conv2d_forward<double>(g, x.data(), in[2], in[3], pre->data());
      std::vector<double> d_pre(ny, 0.0), d_x(na + nb, 0.0);
      kernels::ref::leaky_relu_backward<double>(pre->data(), d_y, d_pre.data(), int64_t(ny), slope);
      kernels::ref::conv2d_backward<double>(g, x.data(), in[2], d_pre.data(), d_x.data(), d[2], d[3]);
      for (size_t i = 0; i < na; ++i) d[0][i] += d_x[i];
      for (size_t i = 0; i < nb; ++i) d[1][i] += d_x[na + i];
    };
    const test::GradCheckResult r = test::grad_check(op);
    INFO(r.worst);
    CHECK(r.max_error < 1e-6);
  }
}

TEST_CASE("decoder forward on the tape: output shape, gradients reach every parameter", "[decoders][tape]") {
  for (const auto& [table, input] : std::vector<std::pair<std::string, Shape>>{
           {"hog", Shape{31, 8, 8}}, {"lbp", Shape{58, 4, 4}}, {"sift", Shape{133, 16, 16}}, {"alexnet-fc8", Shape{1000}}}) {
    INFO(table);
    layers::Decoder d(decoder_table(table), 1.0 / 16, input);
    d.init_he(3);
    Tape t;
    const std::vector<Var> params = d.bind(t, true);
    Shape xs = input.ndim() == 1 ? Shape{2, input[0]} : Shape{2, input[0], input[1], input[2]};
    Var x = t.constant(test::random_tensor(xs, 4, 0.0f, 0.3f));
    Var y = d.forward(t, params, x);
    CHECK(t.shape(y) == d.output_shape(2));
    Var l = ops::mean(t, ops::mul(t, y, y));
    t.backward(l);
    for (size_t i = 0; i < params.size(); ++i) {
      INFO(d.parameter_shapes()[i].first);
      REQUIRE(t.has_grad(params[i]));
    }
  }
}

TEST_CASE("decoder He initialisation: std sqrt(2 / (1.04 fan_in)), zero biases, reproducible", "[decoders][init]") {
  layers::Decoder a(decoder_table("hog"), 0.5, Shape{31, 8, 8}), b(decoder_table("hog"), 0.5, Shape{31, 8, 8});
  a.init_he(11);
  b.init_he(11);
  for (size_t p = 0; p < a.parameters().size(); ++p) {
    const std::string& name = a.parameter_shapes()[p].first;
    INFO(name);
    const Tensor& t = a.parameters()[p];
    REQUIRE(t.to_vector() == b.parameters()[p].to_vector());
    if (t.shape().ndim() == 1) {
      for (float v : t.to_vector()) REQUIRE(v == 0.0f);
      continue;
    }
    const Shape& s = t.shape();
    const bool up = name.rfind("upconv", 0) == 0;
    const double fan_in = up ? double(s[0]) * s[2] * s[3] / 4.0 : double(s[1]) * s[2] * s[3];
    double sq = 0;
    for (float v : t.to_vector()) sq += double(v) * v;
    const double std_measured = std::sqrt(sq / double(t.numel())), want = std::sqrt(2.0 / (1.04 * fan_in));
    // At least 16 * 3 * 4 * 4 = 768 draws per tensor (upconvJ6): 4 sigma of the sample std is 4 / sqrt(2 * 768) = 10 %.
    CHECK(std::abs(std_measured / want - 1.0) < 0.2);
  }
}

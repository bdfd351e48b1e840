// `preimage convert-weights`: published weights (MatConvNet .mat, torchvision .pth, ONNX) -> the native
// safetensors file, validated by loading it with the model definition (weights/convert.h; docs/weights.md).
#include <cstdio>
#include <memory>

#include "layers/models.h"
#include "tools/preimage/commands.h"
#include "weights/convert.h"

namespace preimage::tools {
namespace {

int run_convert(const weights::ConvertOptions& o) {
  const layers::Network net = weights::convert_weights(o);
  int64_t params = 0;
  for (const auto& [name, t] : net.parameters()) params += t.numel();
  const layers::Preprocessing& p = net.preprocessing;
  std::fprintf(stderr, "wrote %s: %s, %zu layers, %lld parameters, input %dx%d %s", o.output.c_str(),
               net.name.c_str(), net.layers.size(), static_cast<long long>(params), p.input_h, p.input_w,
               p.source_order.c_str());
  if (p.mean_image.defined())
    std::fprintf(stderr, ", mean image %lldx%lld\n", static_cast<long long>(p.mean_image.shape()[1]),
                 static_cast<long long>(p.mean_image.shape()[2]));
  else
    std::fprintf(stderr, ", mean pixel (RGB) %.3f %.3f %.3f\n", p.mean_pixel[0], p.mean_pixel[1], p.mean_pixel[2]);
  return 0;
}

}  // namespace

void register_convert_weights(CLI::App& app) {
  auto o = std::make_shared<weights::ConvertOptions>();
  CLI::App* cmd = app.add_subcommand(
      "convert-weights",
      "Convert published network weights (MatConvNet .mat, torchvision .pth, ONNX model zoo) to the native "
      "safetensors file, checking the source's structure against the model definition (docs/weights.md)");
  cmd->add_option("input", o->input, "source file (.mat, .pth, .onnx)")->required();
  cmd->add_option("output", o->output, "output .safetensors file")->required();
  cmd->add_option("--model", o->model, "alexnet, caffenet, vgg-m, vgg-vd-16 (vgg16)")->required();
  cmd->add_option("--format", o->format, "auto, matconvnet, torchvision, onnx")->capture_default_str();
  cmd->add_option("--preset", o->preset,
                  "input preprocessing for ONNX files: auto (caffe for alexnet/caffenet, torchvision for vgg16), "
                  "caffe (BGR 0-255 minus the ILSVRC mean), torchvision (RGB /255, ImageNet mean/std)")
      ->capture_default_str();
  cmd->add_option("--mean", o->mean, "override the mean pixel: R,G,B on the 0-255 scale");
  cmd->add_option("--fc-width", o->model_options.fc_width, "fc6/fc7 width (reduced heads)")->capture_default_str();
  cmd->add_option("--classes", o->model_options.num_classes, "fc8 width")->capture_default_str();
  cmd->add_option("--python", o->python, "Python with numpy, scipy, torch, onnx")->capture_default_str();
  cmd->add_option("--script", o->script, "converter script (default: tools/convert_weights.py found from the binary)");
  cmd->callback([o] { set_exit_code(run_convert(*o)); });
}

}  // namespace preimage::tools

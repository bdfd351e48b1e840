#pragma once
// A feed-forward CNN as a list of named layers (AlexNet, CaffeNet, VGG-M, VGG-VD-16: layers/models.h) and its
// runner on the tape. docs/models.md explains the conventions; the weights come from weights/model_weights.h.
//
// Input domain (where the mean is subtracted): forward() takes x = image - mean, an [N, 3, H, W] RGB image on the
// 0-255 scale minus the model's mean (pixel or image), which is the domain the pre-image papers optimise in (seed
// 001 sect. 3: the regulariser's B = 80 is the norm of a mean-subtracted pixel). preprocess()/deprocess() convert
// between that and plain images. Everything else a source network expects of its input (BGR channel order, an input
// scale such as torchvision's 1/(255 std)) is folded into conv1's weights when the weights are loaded, so every
// loaded network takes the same kind of x.
//
// Fully connected layers run as convolutions whose kernel covers the previous layer's map at the nominal input size
// (MatConvNet's view): at that size they are exactly Caffe's InnerProduct; on a larger image they slide.
#include <map>
#include <string>
#include <vector>

#include "engine/tape.h"
#include "kernels/conv2d.h"
#include "kernels/lrn.h"
#include "kernels/max_pool2d.h"

namespace preimage::layers {

enum class LayerKind { conv, relu, lrn, pool, fc, dropout, softmax };
const char* layer_kind_name(LayerKind k);

struct Layer {
  std::string name;  // the papers' name: conv1, relu1, norm1, pool1, ..., fc8, prob; conv5_3 for VGG-VD-16
  LayerKind kind = LayerKind::relu;
  // conv and fc (fc: stride 1, no padding, kernel = the previous map at the nominal input size)
  kernels::Conv2dParams conv;
  int64_t out_channels = 0, in_channels = 0;  // in_channels of the whole input (not per group)
  int kernel_h = 1, kernel_w = 1;
  kernels::MaxPool2dParams pool;
  kernels::LrnParams lrn;  // Caffe's alpha convention (kernels/lrn.h)
  float dropout_p = 0.5f;  // eval mode only: dropout is the identity
  // Tensor names in the weights file: "<name>.weight" [out, in/groups, kh, kw] for conv, [out, in*kh*kw] for fc
  // (Caffe/PyTorch InnerProduct layout, input flattened in C, H, W order); "<name>.bias" [out]. Empty: no weights.
  std::string weight, bias;
  bool has_weights() const { return !weight.empty(); }
};

// Receptive field of one unit of a layer's output in input pixels, per axis (all models here are square):
// unit (i, j) sees rows [offset + i*stride - (size-1)/2, offset + i*stride + (size-1)/2] (0-based pixel centres,
// offset may be fractional and negative when padding reaches outside the image).
struct ReceptiveField {
  int64_t size = 1;
  int64_t stride = 1;
  double offset = 0;
};

// What the network expects of its input (from the weights' metadata: weights/model_weights.h).
struct Preprocessing {
  int input_h = 224, input_w = 224;  // the nominal size (fc6's kernel is computed for it)
  std::vector<float> mean_pixel;     // RGB, 0-255 scale (3 values); used when mean_image is not defined
  Tensor mean_image;                 // [3, Hm, Wm] RGB, 0-255 scale; optional
  // For the record (already folded into conv1 by the loader): the source network's channel order and its
  // per-channel input scale (network input = (pixel - mean) * scale, in RGB order here).
  std::string source_order = "RGB";
  std::vector<float> input_scale = {1.0f, 1.0f, 1.0f};
};

class Network {
 public:
  std::string name;  // "alexnet", "caffenet", "vgg-m", "vgg-vd-16"
  std::vector<Layer> layers;
  Preprocessing preprocessing;

  // Index of a layer by name; throws listing the valid names.
  size_t layer_index(const std::string& layer) const;
  const Layer& layer(const std::string& name) const { return layers[layer_index(name)]; }
  std::vector<std::string> layer_names() const;

  // Receptive field of every unit of `layer`'s output (computed from the definition).
  ReceptiveField receptive_field(const std::string& layer) const;
  // Output shape of `layer` for an input of shape [N, 3, H, W] (throws if the input is too small).
  Shape output_shape(const std::string& layer, const Shape& input) const;
  // Number of output channels of a layer.
  int64_t channels(const std::string& layer) const;

  // Parameters, keyed by tensor name ("conv1.weight"); fc weights are stored as 4-d conv weights
  // [out, C, kh, kw]. Filled by weights::load_network() (or set_parameter() for random networks).
  const std::map<std::string, Tensor>& parameters() const { return params_; }
  void set_parameter(const std::string& name, Tensor value);
  bool has_parameters() const;  // every weighted layer has its weight and bias
  // The expected shape of each tensor of the weights file, in layer order (fc weights 2-d, as in the file).
  std::vector<std::pair<std::string, Shape>> expected_tensors() const;
  void to(Device device);  // moves the parameters (and mean image)
  Device device() const;

  // image [N, 3, H, W] RGB 0-255 -> x = image - mean. A mean image of another size is centre-cropped when it is
  // larger than the image (Caffe's crop of its 256x256 mean to 227x227); otherwise its per-channel average is used.
  Tensor preprocess(const View& image) const;
  Tensor deprocess(const View& x) const;  // x + mean
  Tensor mean_for(int64_t h, int64_t w) const;  // [1, 3, h, w] RGB, host

  // Runs layers [0, up_to] on x (see the input domain above) and returns the output of `up_to`.
  Var forward(Tape& t, Var x, const std::string& up_to) const;
  // Outputs of layers [first, last] (inclusive, by name) given `input`, the input of layer `first` (the image for
  // the first layer); one Var per layer in that range. Dropout layers return their input (eval mode).
  // `params`, when given, replaces the stored parameters by tape variables of the same names (the fine-tuned
  // encoder of `train-decoder --finetune-encoder`, whose weights get gradients); it must hold every weight and bias
  // of the range.
  std::vector<Var> forward_range(Tape& t, Var input, const std::string& first, const std::string& last,
                                 const std::map<std::string, Var>* params = nullptr) const;

  // The definition as JSON (layers, kinds, hyperparameters, expected tensor shapes): the converter
  // (tools/convert_weights.py) matches a source file against it.
  std::string spec_json() const;

 private:
  std::map<std::string, Tensor> params_;
};

}  // namespace preimage::layers

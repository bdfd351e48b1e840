#pragma once
// The networks of the pre-image papers (seed 001 sect. 4.2, Tables 1-3), as layer lists (layers/network.h):
//   alexnet    Caffe's bvlc_alexnet: conv1 11x11 s4 96 | relu1 | norm1 | pool1 | conv2 5x5 p2 g2 256 | relu2 | norm2 |
//              pool2 | conv3 3x3 p1 384 | relu3 | conv4 3x3 p1 g2 384 | relu4 | conv5 3x3 p1 g2 256 | relu5 | pool5 |
//              fc6 | relu6 | drop6 | fc7 | relu7 | drop7 | fc8 | prob; LRN 5 / 1e-4 / 0.75 / k 1; pools 3x3 s2 ceil;
//              input 227.
//   caffenet   bvlc_reference_caffenet: the same with each pool before its norm (conv1, relu1, pool1, norm1, ...).
//   vgg-m      Chatfield et al. 2014 (Caffe VGG_CNN_M, MatConvNet imagenet-vgg-m): conv1 7x7 s2 96 | relu1 | norm1 |
//              pool1 3x3 s2 | conv2 5x5 s2 p1 256 | relu2 | norm2 | pool2 3x3 s2 | conv3-5 3x3 p1 512 (+relu) |
//              pool5 3x3 s2 | fc6 (6x6) | relu6 | drop6 | fc7 | relu7 | drop7 | fc8 | prob; LRN 5 / 5e-4 / 0.75 /
//              k 2 (MatConvNet stores [5 2 1e-4 0.75], alpha already divided by 5); pools ceil; input 224.
//   vgg-vd-16  Simonyan & Zisserman, configuration D: conv1_1 ... conv5_3 (3x3 p1, each with relu<i>_<j>), pool1-5
//              2x2 s2 (ceil, as Caffe; at 224 and any multiple of 32 identical to torchvision's floor), fc6 (7x7),
//              relu6, drop6, fc7, relu7, drop7, fc8, prob; input 224.
// Dropout layers are in the lists (Caffe has them) but are the identity here (eval mode); the papers' tables
// omit them.
#include <cstdint>
#include <string>
#include <vector>

#include "layers/network.h"

namespace preimage::layers {

struct ModelOptions {
  // Widths of the fully connected head. The defaults are the published networks; smaller values give the reduced
  // heads the parity tests use (and fit fine-tuned heads), recorded in the weights' metadata.
  int64_t fc_width = 4096;    // fc6 and fc7 outputs
  int64_t num_classes = 1000; // fc8 outputs
  // Nominal (square) input side; 0 = the published network's (227 / 224). fc6's kernel is the pool5 map at this
  // size, so a smaller side gives a smaller network: the reduced random networks of the decoder results.
  int input_size = 0;
};

// name: alexnet, caffenet, vgg-m, vgg-vd-16 (aliases: vggm, vgg16, vgg-16, vgg-vd16). Throws listing the models.
// The preprocessing is the nominal input size and a default mean pixel (Caffe's ILSVRC 2012 mean for the Caffe
// models, the VGG paper's for vgg-vd-16); loading weights replaces it with the file's.
Network make_model(const std::string& name, const ModelOptions& options = {});
std::string canonical_model_name(const std::string& name);  // throws on an unknown name
std::vector<std::string> model_names();

// Fills every weight and bias with seeded Gaussian noise (He initialisation: std sqrt(2 / fan_in); biases
// N(0, 0.01^2) shifted by +0.1 so ReLUs stay partly active), for random-weight experiments.
void init_random(Network& net, uint64_t seed);

}  // namespace preimage::layers

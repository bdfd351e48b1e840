#pragma once
// Reverse-mode autodiff as a tape (design decision 4).
//
// Each op call appends a node holding its output value, its inputs and a backward closure that captures exactly the
// state backward needs (saved tensors live in the closure, never in layer members). Tape::backward(y) seeds dL/dy
// = 1 for a scalar y and walks the nodes in reverse order.
//
// Gradient semantics: gradients ACCUMULATE. Each node's gradient buffer is created zeroed on first use, and every
// backward closure adds (+=) its contribution to its inputs' buffers; kernels' backward functions accumulate too.
// Leaf gradients accumulate across backward calls (twice = double; zero_grad() resets), as in PyTorch;
// intermediate gradients are reset at the start of each backward call. Gradients are only computed for nodes that
// (transitively) depend on a leaf created with requires_grad = true.
#include <functional>
#include <string>
#include <vector>

#include "engine/op_table.h"
#include "engine/tensor.h"

namespace preimage {

struct Var {
  int id = -1;
  bool valid() const { return id >= 0; }
};

class Tape;
// Called with the tape and dL/d(output); adds into tape.grad_of(input) for each input that needs a gradient.
using BackwardFn = std::function<void(Tape&, const View& d_out)>;

class Tape {
 public:
  explicit Tape(Device device = Device::cpu) : device_(device) {}
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // A leaf borrowing caller memory (parameters, the image being optimised). The caller keeps it alive.
  Var leaf(const View& value, bool requires_grad);
  // A leaf owning its value (targets, constants, masks).
  Var constant(Tensor value);
  // Appends an op's result. requires_grad is inherited from the inputs; backward is dropped when no input needs it.
  Var record(Op op, Tensor value, std::vector<Var> inputs, BackwardFn backward);

  View value(Var v) const;
  Shape shape(Var v) const { return value(v).shape; }
  bool requires_grad(Var v) const;
  Op op(Var v) const;
  // The gradient buffer of v, created zeroed (same shape and device as the value) on first use.
  View grad_of(Var v);
  // The accumulated gradient, or an empty view if none reached v.
  View grad(Var v) const;
  bool has_grad(Var v) const;

  // dL/dy for a scalar (one-element) y; accumulates into every gradient buffer on the way.
  void backward(Var y, float seed = 1.0f);
  void zero_grad();
  void clear();  // drops all nodes (and the memory they own)
  size_t size() const { return nodes_.size(); }
  Device device() const { return device_; }
  float item(Var v) const;  // host copy of a one-element value

 private:
  struct Node {
    Op op = Op::leaf;
    Tensor owned;     // op outputs and constants own their value
    View value;       // always valid; points into owned, or into caller memory for borrowed leaves
    Tensor grad;      // created on first use
    std::vector<Var> inputs;
    BackwardFn backward;
    bool requires_grad = false;
  };
  const Node& node(Var v) const;
  Node& node(Var v);
  std::vector<Node> nodes_;
  Device device_;
};

}  // namespace preimage

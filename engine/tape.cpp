#include "engine/tape.h"

#include "engine/error.h"
#include "kernels/elementwise.h"

namespace preimage {

const Tape::Node& Tape::node(Var v) const {
  PI_CHECK(v.id >= 0 && static_cast<size_t>(v.id) < nodes_.size(), "tape: variable ", v.id,
           " does not belong to this tape (", nodes_.size(), " nodes)");
  return nodes_[static_cast<size_t>(v.id)];
}
Tape::Node& Tape::node(Var v) { return const_cast<Node&>(static_cast<const Tape&>(*this).node(v)); }

Var Tape::leaf(const View& value, bool requires_grad) {
  PI_CHECK(value.device == device_, "tape: leaf on ", device_name(value.device), " but the tape runs on ",
           device_name(device_));
  Node n;
  n.value = value;
  n.requires_grad = requires_grad;
  nodes_.push_back(std::move(n));
  return Var{static_cast<int>(nodes_.size()) - 1};
}

Var Tape::constant(Tensor value) {
  PI_CHECK(value.device() == device_, "tape: constant on ", device_name(value.device()),
           " but the tape runs on ", device_name(device_));
  Node n;
  n.value = value.view();
  n.owned = std::move(value);
  nodes_.push_back(std::move(n));
  return Var{static_cast<int>(nodes_.size()) - 1};
}

Var Tape::record(Op op, Tensor value, std::vector<Var> inputs, BackwardFn backward) {
  Node n;
  n.op = op;
  n.value = value.view();
  n.owned = std::move(value);
  for (Var in : inputs) n.requires_grad = n.requires_grad || node(in).requires_grad;
  n.inputs = std::move(inputs);
  if (n.requires_grad) n.backward = std::move(backward);
  nodes_.push_back(std::move(n));
  return Var{static_cast<int>(nodes_.size()) - 1};
}

View Tape::value(Var v) const { return node(v).value; }
bool Tape::requires_grad(Var v) const { return node(v).requires_grad; }
Op Tape::op(Var v) const { return node(v).op; }

View Tape::grad_of(Var v) {
  Node& n = node(v);
  if (!n.grad.defined()) n.grad = Tensor::zeros(n.value.shape, device_);
  return n.grad.view();
}

View Tape::grad(Var v) const {
  const Node& n = node(v);
  return n.grad.defined() ? n.grad.view() : View();
}

bool Tape::has_grad(Var v) const { return node(v).grad.defined(); }

void Tape::backward(Var y, float seed) {
  Node& out = node(y);
  PI_CHECK(out.value.numel() == 1, "tape: backward() needs a scalar, got shape ", out.value.shape.str());
  PI_CHECK(out.requires_grad, "tape: backward() from a value that does not depend on any leaf with requires_grad");
  // Intermediate gradients are recomputed by every backward call; only leaf gradients accumulate across calls.
  for (Node& n : nodes_)
    if (n.op != Op::leaf && n.grad.defined())
      fill_floats(n.grad.data(), device_, 0.0f, static_cast<size_t>(n.grad.numel()));
  View g = grad_of(y);
  Tensor s = Tensor::full(Shape{}, seed, device_);  // filled on the device: no host upload per backward
  kernels::add_into(g, s.view().reshape(g.shape));
  for (int i = y.id; i >= 0; --i) {
    Node& n = nodes_[static_cast<size_t>(i)];
    if (!n.requires_grad || !n.backward || !n.grad.defined()) continue;
    // Copy the closure handle: the closure may grow nothing, but grad_of() on inputs must not invalidate `n`.
    BackwardFn fn = n.backward;
    View d_out = n.grad.view();
    fn(*this, d_out);
  }
}

void Tape::zero_grad() {
  for (Node& n : nodes_)
    if (n.grad.defined()) fill_floats(n.grad.data(), device_, 0.0f, static_cast<size_t>(n.grad.numel()));
}

void Tape::clear() { nodes_.clear(); }

float Tape::item(Var v) const {
  View x = value(v);
  PI_CHECK(x.numel() == 1, "tape: item() of a value with shape ", x.shape.str());
  float out = 0;
  copy_floats(&out, Device::cpu, x.data, x.device, 1);
  return out;
}

}  // namespace preimage

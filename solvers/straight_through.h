#pragma once
// A representation whose value is one network's and whose gradient is another's (a straight-through estimator):
//   phi(x) = value_phi(x)  (forward),   d phi / dx := d gradient_phi / dx  (backward).
// Used to invert hard-assignment HOG: its derivative only rescales each pixel's gradient inside the orientation bin
// it already falls in (the bin choice is piecewise constant), so gradient descent cannot rotate an edge into the bin
// the code asks for. HOG with bilinear orientation assignment (HOGb) has the same value up to the split between the
// two nearest bins and a derivative that does rotate edges. The loss is still measured on the hard code, from the
// hard code alone. docs/preimage.md, "Hard HOG and the straight-through gradient".
#include "solvers/objective.h"

namespace preimage::solvers {

// Both networks must map the same image to features of the same shape.
Representation straight_through(Representation value_phi, Representation gradient_phi);

}  // namespace preimage::solvers

#pragma once
// The decoder trainer's learning-rate schedule. Seed 002 sect. 2.2 says only "we gradually decreased the learning
// rate towards the end of training"; the authors' later generators (REFERENCE.md: DeePSiM) keep the rate constant
// and then halve it. We do the same within a fixed budget of T steps, so that a run of any length ends annealed:
//   steps 1 .. 0.7 T        lr                        (the bulk of training at the paper's 1e-3)
//   then each further 10 %  lr/2, lr/4, lr/8          (halving, as the authors' code)
// Integer arithmetic on the step decides the phase, so a resumed run takes exactly the same rates.
#include <cstdint>

namespace preimage::solvers {

// Rate for 1-based step `step` of `total` steps.
float decoder_learning_rate(float base, int64_t step, int64_t total);

}  // namespace preimage::solvers

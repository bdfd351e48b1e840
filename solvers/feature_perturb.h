#pragma once
// Perturbed feature vectors (seed 002 sect. 4.3-4.4, Figs. 7-9; seed 003 Figs. 3-4): what a decoder makes of
// features changed on purpose shows which of their properties carry the image. Each sample of a batch [N, ...] is
// one feature vector (all its entries, flattened) and is perturbed on its own:
//
//   binarize        keep the signs, set every non-zero magnitude to one value m that keeps the Euclidean norm:
//                   m = ||v|| / sqrt(nnz(v)) (after a ReLU all entries are >= 0, so this sets them all to m)
//   dropout         set floor(D / 2) entries, drawn at random among all D, to zero; rescale to the original norm
//   dropout-least   set the floor(nnz / 2) non-zero entries of smallest magnitude to zero; rescale likewise
//   binarize-dropout, binarize-dropout-least   the dropout first, then binarize (the paper's order)
//   top5            keep only the 5 largest entries (FC8: the top-5 class scores), the rest zero; no rescaling
//   drop-top5       set the 5 largest entries to zero; no rescaling
//
// A vector that becomes all zero stays so (there is no norm to restore). Random draws are Philox(seed, stream =
// sample index): the result depends on (seed, sample) only, not on the batch size or threads. Ties in the
// orderings are broken by index (lower index counts as smaller), so the result is deterministic.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace preimage::solvers {

enum class Perturbation { none, binarize, dropout, dropout_least, binarize_dropout, binarize_dropout_least, top5,
                          drop_top5 };

// "none", "binarize", "dropout", "dropout-least", "binarize-dropout", "binarize-dropout-least", "top5",
// "drop-top5"; parse throws preimage::Error listing them.
const std::vector<std::string>& perturbation_names();
Perturbation parse_perturbation(const std::string& name);
std::string perturbation_name(Perturbation p);

// One vector in place (`sample` picks the random stream).
void perturb_vector(float* v, int64_t n, Perturbation p, uint64_t seed, uint64_t sample);
// A host batch [N, ...] -> a perturbed copy.
Tensor perturb_features(const View& features, Perturbation p, uint64_t seed);

// A feature vector of shape `shape` (without the batch dimension) that is zero except entry `unit` (of the
// flattened vector) = value, as [1, shape...] (seed 003 Fig. 4: single-unit images). Throws when unit is out of range.
Tensor one_hot_features(const Shape& shape, int64_t unit, float value);

}  // namespace preimage::solvers

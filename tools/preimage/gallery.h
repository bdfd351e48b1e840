#pragma once
// Results a person can look at: per-image contact sheets and an index.html gallery linking them.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/tensor.h"

namespace preimage::tools {

struct GalleryRow {
  std::string stem;
  Tensor original;                     // [1, C, H, W] 0..255
  Tensor features;                     // rendering of the features, may be undefined
  std::vector<Tensor> reconstructions; // one per restart
  std::vector<double> errors;          // feature error per reconstruction
  std::string caption;                 // plain text under the sheet (escaped), may be empty
  std::string error;                   // a failed input: why (shown instead of its sheet)
  // original | features | reconstructions, at the original's height.
  Tensor sheet() const;
};

// The row of a metrics.json entry ("stem", "runs" with each run's score, "caption", or "error"): index.html needs
// no pixels (the sheet is on disk), so a resumed run lists the inputs an earlier run finished.
GalleryRow gallery_row(const nlohmann::json& entry);
std::vector<GalleryRow> gallery_rows(const std::vector<nlohmann::json>& entries);

// Text for HTML: < > & " escaped.
std::string html_escape(const std::string& s);

// index.html beside the PNGs: one row per image with its sheet, the reconstructions' files and errors, and the
// run's configuration. Written atomically.
void write_gallery(const std::string& path, const std::string& title, const std::vector<GalleryRow>& rows,
                   const nlohmann::json& config);

}  // namespace preimage::tools

#include "tools/preimage/gallery.h"

#include <cstdio>
#include <sstream>

#include "engine/atomic_file.h"
#include "engine/image_ops.h"

namespace preimage::tools {

Tensor GalleryRow::sheet() const {
  std::vector<View> tiles{original.view()};
  if (features.defined()) tiles.push_back(features.view());
  // Reconstructions of HOG or DSIFT span a narrow band around mid-grey: shown stretched, as the papers' figures
  // (vl_imsc); the files beside the sheet stay unscaled.
  std::vector<Tensor> shown;
  for (const Tensor& r : reconstructions) shown.push_back(stretch_for_display(r.view()));
  for (const Tensor& r : shown) tiles.push_back(r.view());
  return contact_sheet(tiles, std::max<int64_t>(original.shape()[2], 128));
}

GalleryRow gallery_row(const nlohmann::json& entry) {
  GalleryRow row;
  row.stem = entry.value("stem", "");
  row.caption = entry.value("caption", "");
  if (entry.contains("error") && entry["error"].is_string()) row.error = entry["error"].get<std::string>();
  if (entry.contains("runs"))
    for (const nlohmann::json& run : entry["runs"])
      for (const char* key : {"feature_error", "activation_over_M", "feature_change"})
        if (run.contains(key)) {
          row.errors.push_back(run[key].get<double>());
          break;
        }
  return row;
}

std::vector<GalleryRow> gallery_rows(const std::vector<nlohmann::json>& entries) {
  std::vector<GalleryRow> rows;
  for (const nlohmann::json& e : entries) rows.push_back(gallery_row(e));
  return rows;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

void write_gallery(const std::string& path, const std::string& title, const std::vector<GalleryRow>& rows,
                   const nlohmann::json& config) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << html_escape(title) << "</title>\n"
    << "<style>body{font-family:sans-serif;margin:2em}img{max-width:100%;image-rendering:pixelated}"
       "td,th{padding:4px 10px;text-align:left;vertical-align:top}pre{background:#f4f4f4;padding:1em}</style>"
       "</head><body>\n<h1>" << html_escape(title) << "</h1>\n"
    << "<p>Each row: original (as inverted) | rendering of its features | reconstruction(s), the reconstructions "
       "<b>contrast-stretched for display</b> (the " << kDisplayPercentile << "st and " << 100 - kDisplayPercentile
    << "th percentiles of each image's values mapped to black and white). The linked files are the reconstructions "
       "unscaled: 8-bit PNG, and 16-bit PNG (lossless, what <code>preimage eval</code> reads). "
       "Feature error = ||&Phi;(x*) - &Phi;(x0)|| / ||&Phi;(x0)||.</p>\n<table>\n";
  for (const GalleryRow& r : rows) {
    if (!r.error.empty()) {
      h << "<tr><th>" << html_escape(r.stem) << "</th><td style=\"color:#b00\">failed: " << html_escape(r.error)
        << "</td></tr>\n";
      continue;
    }
    h << "<tr><th>" << html_escape(r.stem) << "</th><td><img src=\"" << html_escape(r.stem) << "_sheet.png\"><br>";
    for (size_t k = 0; k < r.errors.size(); ++k) {
      const std::string name = r.errors.size() > 1 ? r.stem + "_r" + std::to_string(k) : r.stem;
      char err[64];
      std::snprintf(err, sizeof err, "%.1f %%", 100 * r.errors[k]);
      h << "<a href=\"" << html_escape(name) << ".png\">" << html_escape(name) << ".png</a> (<a href=\""
        << html_escape(name) << "_16bit.png\">16-bit</a>) error " << err << "&nbsp; ";
    }
    if (!r.caption.empty()) h << html_escape(r.caption);
    h << "</td></tr>\n";
  }
  h << "</table>\n<h2>Configuration</h2>\n<pre>" << html_escape(config.dump(2)) << "</pre>\n</body></html>\n";
  write_file_atomic(path, h.str());
}

}  // namespace preimage::tools

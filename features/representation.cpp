#include "features/representation.h"

#include "engine/error.h"
#include "features/dsift.h"
#include "features/dsift_render.h"
#include "features/hog.h"
#include "features/hog_render.h"
#include "features/lbp.h"
#include "features/lbp_render.h"
#include "features/sift_grid.h"

namespace preimage::features {

const std::vector<std::string>& representation_names() {
  static const std::vector<std::string> names = {"hog", "hogb", "hog-dt", "dsift", "lbp", "sift-grid"};
  return names;
}

namespace {
Representation make_hog(const std::string& name, const RepresentationOptions& o) {
  PI_CHECK(o.cell_size >= 2 && o.cell_size <= 64, "--cell-size must be in [2, 64], got ", o.cell_size);
  PI_CHECK(o.orientations >= 2 && o.orientations <= 32, "--orientations must be in [2, 32], got ", o.orientations);
  HogParams p;
  p.cell_size = o.cell_size;
  p.num_orientations = o.orientations;
  p.variant = name == "hog-dt" ? HogVariant::dalal_triggs : HogVariant::uoctti;
  p.bilinear_orientations = name == "hogb";
  Representation r;
  r.name = name;
  r.differentiable = true;
  r.gray_input = false;  // VLFeat's HOG takes colour (channel of largest gradient); invert uses gray anyway
  r.extract = [p](const View& image) { return hog_forward(image, p); };
  r.phi = [p](Tape& t, Var image) { return hog(t, image, p); };
  r.render = [p](const View& f, const Shape&) { return hog_render(f, p); };
  r.check_image = [p](const Shape& s) { hog_check_image(s, p); };
  r.params = {{"representation", name},
              {"cell_size", p.cell_size},
              {"orientations", p.num_orientations},
              {"variant", name == "hog-dt" ? "DalalTriggs" : "UoCTTI"},
              {"bilinear_orientations", p.bilinear_orientations},
              {"dimension", hog_dimension(p)}};
  return r;
}

Representation make_dsift(const RepresentationOptions& o) {
  PI_CHECK(o.dsift_step >= 1 && o.dsift_step <= 64, "--step must be in [1, 64], got ", o.dsift_step);
  PI_CHECK(o.dsift_bin >= 1 && o.dsift_bin <= 64, "--bin-size must be in [1, 64], got ", o.dsift_bin);
  DsiftParams p;
  p.step = o.dsift_step;
  p.bin_size = o.dsift_bin;
  p.flat_window = o.flat_window;
  Representation r;
  r.name = "dsift";
  r.differentiable = true;
  r.extract = [p](const View& image) { return dsift(image, p); };
  r.phi = [p](Tape& t, Var image) { return dsift(t, image, p); };
  r.check_image = [p](const Shape& s) { features::dsift_geometry(s[2], s[3], p); };
  r.render = [p](const View& f, const Shape& s) { return render_dsift(f, s[2], s[3], p); };
  r.params = {{"representation", "dsift"},
              {"step", p.step},
              {"bin_size", p.bin_size},
              {"window", p.flat_window ? "flat" : "gaussian"},
              {"dimension", 128}};
  return r;
}

Representation make_lbp(const RepresentationOptions& o) {
  PI_CHECK(o.lbp_cell >= 2 && o.lbp_cell <= 128, "--lbp-cell must be in [2, 128], got ", o.lbp_cell);
  LbpParams p;
  p.cell_size = o.lbp_cell;
  Representation r;
  r.name = "lbp";
  r.extract = [p](const View& image) { return lbp(image, p); };
  r.render = [p](const View& f, const Shape& s) { return render_lbp(f, s[2], s[3], p.cell_size); };
  r.check_image = [p](const Shape& s) {
    PI_CHECK(s[2] >= p.cell_size && s[3] >= p.cell_size, "lbp: the image (", s[2], "x", s[3],
             ") is smaller than one ", p.cell_size, "-pixel cell");
  };
  r.params = {{"representation", "lbp"}, {"cell_size", p.cell_size}, {"dimension", 58}};
  return r;
}

Representation make_sift_grid() {
  SiftGridParams p;
  Representation r;
  r.name = "sift-grid";
  r.extract = [p](const View& image) { return sift_grid(image, p); };
  r.check_image = [](const Shape& s) {
    PI_CHECK(s[2] >= 16 && s[3] >= 16, "sift-grid: the image (", s[2], "x", s[3], ") is smaller than 16x16");
  };
  r.params = {{"representation", "sift-grid"}, {"cell", p.cell}, {"dimension", kSiftGridChannels}};
  return r;
}
}  // namespace

Representation make_representation(const std::string& name, const RepresentationOptions& o) {
  if (name == "hog" || name == "hogb" || name == "hog-dt") return make_hog(name, o);
  if (name == "dsift") return make_dsift(o);
  if (name == "lbp") return make_lbp(o);
  if (name == "sift-grid") return make_sift_grid();
  std::string known;
  for (const std::string& n : representation_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown representation '", name, "': use one of ", known);
}

}  // namespace preimage::features

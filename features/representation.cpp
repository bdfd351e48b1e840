#include "features/representation.h"

#include "engine/error.h"
#include "features/dsift.h"
#include "features/hog.h"
#include "features/hog_render.h"

namespace preimage::features {

const std::vector<std::string>& representation_names() {
  static const std::vector<std::string> names = {"hog", "hogb", "hog-dt", "dsift"};
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
  r.extract = [p](const View& image) { return hog_forward(image, p); };
  r.phi = [p](Tape& t, Var image) { return hog(t, image, p); };
  r.render = [p](const View& f) { return hog_render(f, p); };
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
  r.params = {{"representation", "dsift"},
              {"step", p.step},
              {"bin_size", p.bin_size},
              {"window", p.flat_window ? "flat" : "gaussian"},
              {"dimension", 128}};
  return r;
}
}  // namespace

Representation make_representation(const std::string& name, const RepresentationOptions& o) {
  if (name == "hog" || name == "hogb" || name == "hog-dt") return make_hog(name, o);
  if (name == "dsift") return make_dsift(o);
  std::string known;
  for (const std::string& n : representation_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown representation '", name, "': use one of ", known);
}

}  // namespace preimage::features

#include "solvers/objective.h"

#include "engine/error.h"

namespace preimage::solvers {

ObjectiveTerms terms_from_values(const float v[ObjectiveVars::kCount], float w_alpha, float w_tv) {
  // The weighted terms are float products, as the terms were always formed (w * float value, then widened).
  ObjectiveTerms terms;
  terms.loss = v[0];
  terms.r_alpha = w_alpha * v[1];
  terms.r_tv = w_tv * v[2];
  terms.total = v[3];
  return terms;
}

Var build_objective(Tape& t, Var x, const Representation& phi, Var phi0, Var mask, const ObjectiveParams& p,
                    int tau_y, int tau_x, ObjectiveTerms* terms) {
  ObjectiveVars vars;
  Var total = build_objective_vars(t, x, phi, phi0, mask, p, tau_y, tau_x, &vars);
  if (terms) {
    const float v[ObjectiveVars::kCount] = {t.item(vars.loss), t.item(vars.r_alpha), t.item(vars.r_tv),
                                            t.item(vars.total)};
    *terms = terms_from_values(v, vars.w_alpha, vars.w_tv);
  }
  return total;
}

Var build_objective_vars(Tape& t, Var x, const Representation& phi, Var phi0, Var mask, const ObjectiveParams& p,
                         int tau_y, int tau_x, ObjectiveVars* vars) {
  return build_objective_vars(t, x, phi, phi0, mask, p, std::vector<int64_t>{tau_y}, std::vector<int64_t>{tau_x},
                              vars);
}

Var build_objective_vars(Tape& t, Var x, const Representation& phi, Var phi0, Var mask, const ObjectiveParams& p,
                         const std::vector<int64_t>& tau_y, const std::vector<int64_t>& tau_x, ObjectiveVars* vars) {
  const Shape s = t.shape(x);
  PI_CHECK(!tau_y.empty() && tau_y.size() == tau_x.size(), "build_objective_vars: ", tau_y.size(), " vertical and ",
           tau_x.size(), " horizontal jitter shifts");
  Var xin = x;
  if (p.jitter > 1) {
    // x is (T-1) larger than the representation's input; eq. 7 crops a window shifted by tau.
    const int64_t h = s[2] - (p.jitter - 1), w = s[3] - (p.jitter - 1);
    xin = tau_y.size() == 1 ? ops::crop(t, x, tau_y[0], tau_x[0], h, w) : ops::crop_each(t, x, tau_y, tau_x, h, w);
  }
  if (p.form == ObjectiveForm::cvpr && p.sigma != 1.0f) xin = ops::scale(t, xin, p.sigma);
  Var features = phi(t, xin);
  Var loss = p.loss == LossKind::l2 ? ops::normalised_l2(t, features, phi0, mask)
                                    : ops::inner_product(t, features, phi0, p.Z);
  Var r_alpha, r_tv;
  float w_loss = p.C, w_alpha = 1.0f, w_tv = 1.0f;
  if (p.form == ObjectiveForm::ijcv) {
    r_alpha = ops::isotropic_alpha_norm(t, x, p.alpha, p.B);
    r_tv = ops::tv_beta(t, x, p.beta, p.V);
  } else {
    // CVPR eq. 3: lambda_alpha R_alpha + lambda_V R_V with un-normalised sums; tv_beta divides by H W V^beta.
    w_loss = 1.0f;
    r_alpha = ops::alpha_norm(t, x, p.alpha);
    r_tv = ops::tv_beta(t, x, p.beta, 1.0f);
    w_alpha = p.lambda_alpha;
    w_tv = p.lambda_tv * static_cast<float>(s[2] * s[3]);
  }
  Var total = ops::add(t, ops::add(t, ops::scale(t, r_alpha, w_alpha), ops::scale(t, r_tv, w_tv)),
                       ops::scale(t, loss, w_loss));
  if (vars) *vars = ObjectiveVars{loss, r_alpha, r_tv, total, w_alpha, w_tv};
  return total;
}

}  // namespace preimage::solvers

# Reference values for survtdm1.continuous.effect_curve (tests/test_continuous.py).
#
# Run from the repository root (R >= 4.1 with survival 3.x, splines and jsonlite):
#
#     Rscript tests/reference/make_continuous_reference.R
#
# Writes tests/reference/expected/effect_curve.json: for each case, the Cox model
# coxph(Surv(time, event) ~ arm * ns(x, df = 3)) (Efron ties) on the rows with a known x,
# its coefficients (in the order arm, ns1..3, arm:ns1..3), log-likelihood, the
# likelihood-ratio test against arm + ns(x, df = 3) (anova), the knots of ns(), and the
# log hazard ratio of treatment vs control with its standard error at grid values of x
# (from the model's coefficients and variance, basis by predict(ns, grid)).
suppressPackageStartupMessages({
  library(survival)
  library(splines)
  library(jsonlite)
})

one_case <- function(d, grid) {
  basis <- ns(d$x, df = 3)
  fit <- coxph(Surv(time, event) ~ arm * basis, data = d, ties = "efron")
  reduced <- coxph(Surv(time, event) ~ arm + basis, data = d, ties = "efron")
  lrt <- anova(reduced, fit)
  b <- predict(basis, grid)
  contrast <- cbind(1, matrix(0, nrow(b), 3), b)
  log_hr <- as.vector(contrast %*% coef(fit))
  se <- sqrt(rowSums((contrast %*% vcov(fit)) * contrast))
  list(
    n = nrow(d), coef = unname(coef(fit)), loglik = fit$loglik[2],
    chisq = lrt$Chisq[2], p = lrt$`Pr(>|Chi|)`[2],
    knots = unname(attr(basis, "knots")), boundary = unname(attr(basis, "Boundary.knots")),
    grid = grid, log_hr = log_hr, se = se
  )
}

gbsg <- read.csv("tests/reference/data/gbsg.csv")
gbsg_case <- data.frame(time = gbsg$rfstime, event = gbsg$status,
                        arm = as.numeric(gbsg$hormon == "tamoxifen"), x = gbsg$age)
sim <- read.csv("tests/reference/data/sim.csv")
sim <- sim[sim$arm %in% c("experimental", "control") & !is.na(sim$score), ]
sim_case <- data.frame(time = sim$time_months, event = sim$event,
                       arm = as.numeric(sim$arm == "experimental"), x = sim$score)

out <- list(
  gbsg_age = one_case(gbsg_case, c(30, 40, 45, 50, 55, 60, 70, 80)),
  sim_score = one_case(sim_case, as.vector(quantile(sim_case$x, c(0.05, 0.25, 0.5, 0.75, 0.95))))
)
write_json(out, "tests/reference/expected/effect_curve.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)

# Reference values for survtdm1.interaction_meta (tests/test_meta.py).
#
#   Rscript tests/reference/make_meta_reference.R      (from the repository root)
#
# Reads tests/reference/data/meta_*.csv (columns trial, level, hr, hr_lower,
# hr_upper; two rows per trial, 95% CIs), forms each trial's interaction
# log(hr level 2 / hr level 1) with SE sqrt(se1^2 + se2^2), se = (log upper -
# log lower) / (2 * 1.959964), and pools them with metafor::rma, methods "FE",
# "REML" and "DL". Writes tests/reference/expected/meta.json.
# The convergence threshold of REML is tightened (default 1e-5) so that tau^2
# is exact to well below the tests' 1e-6.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

dir <- "tests/reference"
sets <- c("heterogeneous", "homogeneous", "two_trials")
out <- list(
  provenance = list(
    R = R.version.string,
    metafor = as.character(packageVersion("metafor")),
    script = "tests/reference/make_meta_reference.R"
  )
)

for (set in sets) {
  d <- read.csv(file.path(dir, "data", paste0("meta_", set, ".csv")), check.names = FALSE)
  trials <- unique(d$trial)
  se <- (log(d$hr_upper) - log(d$hr_lower)) / (2 * 1.959964)
  first <- match(trials, d$trial)   # first row of each trial = level 1
  second <- first + 1
  yi <- log(d$hr[second]) - log(d$hr[first])
  sei <- sqrt(se[first]^2 + se[second]^2)
  fits <- list()
  for (method in c("FE", "REML", "DL")) {
    fit <- rma(yi = yi, sei = sei, method = method,
               control = list(threshold = 1e-12, maxiter = 1000))
    fits[[method]] <- list(
      log_ratio = as.numeric(fit$b),
      se = fit$se,
      ratio = exp(as.numeric(fit$b)),
      ratio_lower = exp(fit$ci.lb),
      ratio_upper = exp(fit$ci.ub),
      z = fit$zval,
      p_value = fit$pval,
      tau2 = fit$tau2,
      i2 = fit$I2,
      q = fit$QE,
      p_heterogeneity = fit$QEp,
      weights = as.numeric(weights(fit))
    )
  }
  out[[set]] <- list(trial = trials, log_ratio = yi, se = sei, fits = fits)
}

dir.create(file.path(dir, "expected"), showWarnings = FALSE)
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
      file.path(dir, "expected", "meta.json"))
cat("wrote", file.path(dir, "expected", "meta.json"), "\n")

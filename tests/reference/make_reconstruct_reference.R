# Reference values for survtdm1.reconstruct_ipd (tests/test_reconstruct.py).
#
#   Rscript tests/reference/make_reconstruct_reference.R      (from the repository root)
#
# The reconstruction algorithm of Guyot, Ades, Ouwens and Welton (BMC Med Res
# Methodol 2012; 12:9), steps 1-5 for the intervals of the published risk
# table, written out here in base R from the paper's description (R's
# IPDfromKM package, which implements it, is not in Debian). For each interval
# [t_risk[i], t_risk[i+1]):
#   1. first guess of the number censored: round(n_i * S(t_{i+1}) / S(t_i) - n_{i+1});
#   2. censoring times spread evenly over the interval, counted between the
#      digitised points (hist);
#   3. events at each digitised point k: d_k = round(n_k * (1 - S_k / KM_last)),
#      KM_k = KM_last * (1 - d_k / n_k), n_{k+1} = n_k - d_k - c_k;
#   4. the number censored corrected by (n at the next risk time - published n)
#      and steps 2-3 repeated until they agree (or no censoring is left);
#   5. the next interval starts from min(published n, reconstructed n).
# Inputs: tests/reference/data/reconstruct_<case>_curve.csv (time, survival:
# one point per step, distinct times, a point at every risk time) and
# reconstruct_<case>_risk.csv (time, n_at_risk; the last risk time is the
# curve's last point). Output: tests/reference/expected/reconstruct.json with,
# per case, the events d and censorings c counted at each digitised point
# (censorings between point k and k+1) and the number left at the end.
suppressPackageStartupMessages(library(jsonlite))

guyot_intervals <- function(t.S, S, t.risk, n.risk) {
  n.t <- length(t.S)
  n.int <- length(t.risk)
  lower <- sapply(t.risk, function(t) min(which(t.S >= t)))
  stopifnot(all(t.S[lower] == t.risk), lower[n.int] == n.t, all(diff(t.S) > 0))
  upper <- c(lower[-1] - 1, n.t)
  d <- rep(0, n.t)
  cen <- rep(0, n.t)
  n.hat <- rep(0, n.t + 1)
  KM.hat <- rep(1, n.t)
  last <- 1
  for (i in seq_len(n.int - 1)) {
    n.censor <- round(n.risk[i] * S[lower[i + 1]] / S[lower[i]] - n.risk[i + 1])
    start.last <- last
    for (iteration in 1:1000) {
      n.censor <- max(n.censor, 0)
      cen[lower[i]:upper[i]] <- 0
      if (n.censor > 0) {
        cen.t <- t.S[lower[i]] + (1:n.censor) * (t.S[lower[i + 1]] - t.S[lower[i]]) / (n.censor + 1)
        breaks <- t.S[lower[i]:lower[i + 1]]
        stopifnot(!any(cen.t %in% breaks))  # no censoring time on a point: (a, b] = [a, b)
        cen[lower[i]:upper[i]] <- hist(cen.t, breaks = breaks, plot = FALSE)$counts
      }
      n.hat[lower[i]] <- n.risk[i]
      last <- start.last
      for (k in lower[i]:upper[i]) {
        if (k == 1) {
          d[k] <- 0
          KM.hat[k] <- 1
        } else {
          d[k] <- round(n.hat[k] * (1 - S[k] / KM.hat[last]))
          KM.hat[k] <- KM.hat[last] * (1 - d[k] / n.hat[k])
        }
        n.hat[k + 1] <- n.hat[k] - d[k] - cen[k]
        if (d[k] != 0) last <- k
      }
      gap <- n.hat[lower[i + 1]] - n.risk[i + 1]
      if (gap == 0 || (gap < 0 && n.censor == 0)) break
      n.censor <- n.censor + gap
    }
    stopifnot(iteration < 1000)
    n.risk[i + 1] <- min(n.risk[i + 1], n.hat[lower[i + 1]])
  }
  # the last risk time is the last point: its events, and everyone else left there
  k <- n.t
  n.hat[k] <- n.risk[n.int]
  d[k] <- round(n.hat[k] * (1 - S[k] / KM.hat[last]))
  n.hat[k + 1] <- n.hat[k] - d[k]
  list(d = d, c = cen, left = n.hat[n.t + 1])
}

dir <- "tests/reference"
out <- list(provenance = list(R = R.version.string, script = "tests/reference/make_reconstruct_reference.R"))
for (case in c("katherine", "emilia_os")) {
  curve <- read.csv(file.path(dir, "data", paste0("reconstruct_", case, "_curve.csv")))
  risk <- read.csv(file.path(dir, "data", paste0("reconstruct_", case, "_risk.csv")))
  fit <- guyot_intervals(curve$time, curve$survival, risk$time, risk$n_at_risk)
  out[[case]] <- c(list(time = curve$time), fit)
}
write(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
      file.path(dir, "expected", "reconstruct.json"))
cat("wrote", file.path(dir, "expected", "reconstruct.json"), "\n")

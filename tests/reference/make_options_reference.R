# Reference values for the [analysis] options of survtdm1 (contract, "Analysis options"):
# level_strata, adjust, cluster, p_method, convention and time_unit.
#
# Run from the repository root (R >= 4.1 with survival 3.x and jsonlite):
#
#     Rscript tests/reference/make_options_reference.R      # or: make reference
#
# It writes, under tests/reference/:
#
#   data/rats.csv, data/diabetic.csv
#       R survival's `rats` (litters of three rats: cluster = litter) and `diabetic` (two eyes
#       per patient, one treated: cluster = id, the cohort's id column).
#   expected/options.json
#       One entry per case: the plan (cohort, analysis options, subgroups) and the values the
#       contract defines for subgroups.csv and summary.json "overall", computed here with plain
#       survival calls from the contract's definitions (no survtdm1 code involved):
#
#       per level: coxph(Surv(time, event) ~ arm + <adjust> + strata(<strata>),
#                        cluster = <cluster>, ties = <ties>)          hr, CI, p (robust with
#                                                                     cluster)
#                  p_value by p_method: wald (summary), logrank (survdiff, stratified by the
#                  strata with level_strata), lrt (anova against the model without arm)
#       per subgroup, rows where it is known:
#                  main <- coxph(~ arm + level + <adjust> + strata()); full: + arm:level
#                  p_interaction = LRT (df = the estimable arm:level terms = df_interaction),
#                  p_interaction_wald = Wald test of those terms (robust with cluster),
#                  p_trend = p of arm:rank in ~ arm * rank + <adjust> + strata() (cut points)
#       overall: the same model on every row (hr, CI, p_value by p_method), survdiff
#                (p_logrank), cox.zph of the unadjusted model (p_ph), the stratified model
#                `coxph(~ arm + strata(<strata>), cluster = )` and stratified survdiff, and
#                per arm the KM median, landmark and RMST with the convention's conf_type.
#       convention: "r" = efron, conf_type log, wald; "tern" = efron, plain, logrank;
#                   "sas" = breslow, log-log, wald.
#       time_unit: the data's times divided by 30.4375 (days -> months); landmark, rmst_tau
#                  and risk_times are in months.
#
# Text covariates are factors whose first level is the smallest value (the contract's order
# for categorical levels); numeric covariates enter linearly. coxph fits use
# coxph.control(eps = 1e-11, iter.max = 100), as make_reference.R.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

if (!file.exists("tests/reference/make_options_reference.R")) {
  stop("run from the repository root: Rscript tests/reference/make_options_reference.R")
}
out_dir <- "tests/reference"
CONTROL <- coxph.control(eps = 1e-11, iter.max = 100)
CONF_LEVEL <- 0.95
DAYS_PER_UNIT <- c(days = 1, weeks = 7, months = 30.4375, years = 365.25)
CONVENTIONS <- list(
  r = list(ties = "efron", conf_type = "log", p_method = "wald"),
  tern = list(ties = "efron", conf_type = "plain", p_method = "logrank"),
  sas = list(ties = "breslow", conf_type = "log-log", p_method = "wald")
)

write_json_full <- function(x, path) {
  write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE)
}

fmt_num <- function(x) {
  ifelse(x == round(x), formatC(x, format = "d", big.mark = ""), as.character(x))
}

export <- function(df, name) {
  path <- file.path(out_dir, "data", paste0(name, ".csv"))
  write.csv(df, path, row.names = FALSE, na = "")
  read.csv(path, stringsAsFactors = FALSE, na.strings = c("", "NA"))
}

rats_out <- survival::rats
invisible(export(rats_out, "rats"))
diabetic_out <- survival::diabetic
diabetic_out$laser <- as.character(diabetic_out$laser)
diabetic_out$eye <- as.character(diabetic_out$eye)
invisible(export(diabetic_out, "diabetic"))

# Levels of a subgroup: categorical (numeric or string order) or cut points [a, b).
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
  } else {
    written <- if (is.numeric(values)) fmt_num(values) else as.character(values)
    distinct <- unique(written[known])
    labels <- if (is.numeric(values)) distinct[order(as.numeric(distinct))] else sort(distinct, method = "radix")
    index <- match(written, labels)
  }
  index[!known] <- NA_integer_
  list(labels = labels, index = index)
}

# Resolved options: explicit keys win over the convention, which wins over the defaults.
resolve <- function(analysis) {
  base <- list(ties = "efron", conf_type = "log-log", p_method = "wald")
  if (!is.null(analysis$convention)) base <- CONVENTIONS[[analysis$convention]]
  for (k in names(base)) if (!is.null(analysis[[k]])) base[[k]] <- analysis[[k]]
  base$level_strata <- isTRUE(analysis$level_strata)
  base
}

# The model's right-hand side: arm, extra terms, adjust covariates, strata.
rhs <- function(terms, adjust, stratified) {
  parts <- c(terms, if (length(adjust)) paste0("`", adjust, "`"), if (stratified) "strata(.stratum)")
  paste(parts, collapse = " + ")
}

fit_cox <- function(terms, d, opts) {
  f <- as.formula(paste("Surv(.time, .event) ~", rhs(terms, opts$adjust, opts$level_strata)))
  if (is.null(opts$cluster)) {
    coxph(f, data = d, ties = opts$ties, control = CONTROL)
  } else {
    coxph(f, data = d, ties = opts$ties, control = CONTROL, cluster = .cluster)
  }
}

effect <- function(d, opts) {
  fit <- fit_cox(".arm", d, opts)
  s <- summary(fit, conf.int = CONF_LEVEL)
  out <- list(
    hr = unname(s$conf.int[".arm", "exp(coef)"]), hr_lower = unname(s$conf.int[".arm", 3]),
    hr_upper = unname(s$conf.int[".arm", 4])
  )
  p_col <- ncol(s$coefficients) # Pr(>|z|): robust z with a cluster
  out$p_value <- switch(opts$p_method,
    wald = unname(s$coefficients[".arm", p_col]),
    logrank = {
      f <- if (opts$level_strata) Surv(.time, .event) ~ .arm + strata(.stratum) else Surv(.time, .event) ~ .arm
      lr <- survdiff(f, data = d)
      pchisq(lr$chisq, 1, lower.tail = FALSE)
    },
    lrt = {
      if (length(opts$adjust)) {
        reduced <- fit_cox(character(0), d, opts)
        ll0 <- reduced$loglik[length(reduced$loglik)]
      } else {
        ll0 <- fit$loglik[1]
      }
      pchisq(2 * (fit$loglik[2] - ll0), 1, lower.tail = FALSE)
    }
  )
  out$n_model <- fit$n
  out
}

km_arm <- function(time, event, conf_type, analysis) {
  if (length(time) == 0) return(list(median = NA_real_))
  fit <- survfit(Surv(time, event) ~ 1, conf.type = conf_type, conf.int = CONF_LEVEL)
  q <- quantile(fit, 0.5)
  out <- list(
    median = unname(q$quantile), median_lower = unname(q$lower), median_upper = unname(q$upper)
  )
  if (!is.null(analysis$landmark)) {
    s <- summary(fit, times = analysis$landmark)
    out$landmark <- s$surv
    out$landmark_lower <- s$lower
    out$landmark_upper <- s$upper
    out$landmark_se <- s$std.err
  }
  if (!is.null(analysis$rmst_tau)) {
    table <- summary(fit, rmean = analysis$rmst_tau)$table
    out$rmst <- unname(table["rmean"])
    out$rmst_se <- unname(table["se(rmean)"])
  }
  out
}

interaction_tests <- function(d, lev_index, k, opts, ordered) {
  known <- !is.na(lev_index)
  dk <- d[known, ]
  dk$.level <- factor(lev_index[known], levels = seq_len(k))
  warned <- character(0)
  withCallingHandlers(
    {
      main <- fit_cox(c(".arm", ".level"), dk, opts)
      full <- fit_cox(c(".arm", ".level", ".arm:.level"), dk, opts)
    },
    warning = function(w) {
      warned <<- c(warned, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  inter <- grep(":", names(coef(full)))
  inter <- inter[!is.na(coef(full)[inter])]
  lrt <- 2 * (full$loglik[2] - main$loglik[2])
  b <- coef(full)[inter]
  wald <- as.numeric(t(b) %*% solve(vcov(full)[inter, inter, drop = FALSE]) %*% b)
  out <- list(
    p_interaction = pchisq(lrt, length(inter), lower.tail = FALSE),
    p_interaction_wald = pchisq(wald, length(inter), lower.tail = FALSE),
    df_interaction = length(inter), p_trend = NA_real_,
    monotone_likelihood = length(warned) > 0
  )
  if (ordered) {
    dk$.rank <- lev_index[known]
    trend <- fit_cox(c(".arm", ".rank", ".arm:.rank"), dk, opts)
    s <- summary(trend)$coefficients
    out$p_trend <- unname(s[".arm:.rank", ncol(s)])
  }
  out
}

run_case <- function(case) {
  cohort <- case$cohort
  analysis <- case$analysis
  opts <- resolve(analysis)
  opts$adjust <- analysis$adjust
  opts$cluster <- analysis$cluster
  raw <- read.csv(file.path(out_dir, "data", cohort$file), stringsAsFactors = FALSE, na.strings = c("", "NA"))
  d <- raw[raw[[cohort$arm]] %in% c(cohort$treatment, cohort$control), ]
  unit <- if (is.null(analysis$time_unit)) cohort$time_unit else analysis$time_unit
  d$.time <- d[[cohort$time]] * DAYS_PER_UNIT[[cohort$time_unit]] / DAYS_PER_UNIT[[unit]]
  d$.event <- d[[cohort$event]]
  d$.arm <- as.integer(d[[cohort$arm]] == cohort$treatment)
  for (a in analysis$adjust) {
    if (is.character(d[[a]])) d[[a]] <- factor(d[[a]], levels = sort(unique(d[[a]]), method = "radix"))
  }
  if (!is.null(analysis$strata)) d$.stratum <- interaction(d[analysis$strata], drop = TRUE)
  if (!is.null(analysis$cluster)) d$.cluster <- d[[analysis$cluster]]

  overall <- c(
    list(
      n_treatment = sum(d$.arm == 1), n_control = sum(d$.arm == 0),
      events_treatment = sum(d$.event[d$.arm == 1]), events_control = sum(d$.event[d$.arm == 0])
    ),
    effect(d, opts)
  )
  overall$p_logrank <- pchisq(survdiff(Surv(.time, .event) ~ .arm, data = d)$chisq, 1, lower.tail = FALSE)
  overall$p_ph <- unname(cox.zph(coxph(Surv(.time, .event) ~ .arm, data = d, ties = opts$ties, control = CONTROL),
    transform = "km"
  )$table["GLOBAL", "p"])
  if (!is.null(analysis$strata)) {
    sopts <- opts
    sopts$adjust <- NULL
    sopts$level_strata <- TRUE
    sopts$p_method <- "wald"
    st <- effect(d, sopts)
    lr <- survdiff(Surv(.time, .event) ~ .arm + strata(.stratum), data = d)
    overall$stratified <- list(
      hr = st$hr, hr_lower = st$hr_lower, hr_upper = st$hr_upper, p_value = st$p_value,
      p_logrank = pchisq(lr$chisq, 1, lower.tail = FALSE)
    )
  }
  overall$treatment <- km_arm(d$.time[d$.arm == 1], d$.event[d$.arm == 1], opts$conf_type, analysis)
  overall$control <- km_arm(d$.time[d$.arm == 0], d$.event[d$.arm == 0], opts$conf_type, analysis)

  at_risk <- list()
  for (arm_value in c(cohort$treatment, cohort$control)) {
    arm_time <- d$.time[d[[cohort$arm]] == arm_value]
    for (t in analysis$risk_times) {
      at_risk[[length(at_risk) + 1]] <- list(arm = as.character(arm_value), time = t, n_at_risk = sum(arm_time >= t))
    }
  }

  rows <- list()
  for (sg in case$subgroups) {
    lev <- subgroup_levels(d[[sg$column]], sg)
    k <- length(lev$labels)
    tests <- interaction_tests(d, lev$index, k, opts, !is.null(sg$cutpoints))
    for (i in seq_len(k)) {
      dl <- d[!is.na(lev$index) & lev$index == i, ]
      row <- list(
        subgroup = sg$column, level = lev$labels[i],
        n_treatment = sum(dl$.arm == 1), n_control = sum(dl$.arm == 0),
        events_treatment = sum(dl$.event[dl$.arm == 1]), events_control = sum(dl$.event[dl$.arm == 0]),
        hr = NA_real_, hr_lower = NA_real_, hr_upper = NA_real_, p_value = NA_real_
      )
      row$degenerate <- row$events_treatment == 0 || row$events_control == 0
      if (!row$degenerate) row[c("hr", "hr_lower", "hr_upper", "p_value")] <- effect(dl, opts)[1:4]
      km_t <- km_arm(dl$.time[dl$.arm == 1], dl$.event[dl$.arm == 1], opts$conf_type, list())
      km_c <- km_arm(dl$.time[dl$.arm == 0], dl$.event[dl$.arm == 0], opts$conf_type, list())
      row$median_treatment <- km_t$median
      row$median_control <- km_c$median
      rows[[length(rows) + 1]] <- c(row, tests[c(
        "p_interaction", "p_interaction_wald", "df_interaction", "p_trend", "monotone_likelihood"
      )])
    }
  }
  list(
    name = case$name, cohort = cohort, analysis = analysis, subgroups = case$subgroups,
    settings = list(
      ties = opts$ties, conf_type = opts$conf_type, p_method = opts$p_method,
      level_strata = opts$level_strata, adjust = I(if (is.null(analysis$adjust)) character(0) else analysis$adjust),
      cluster = analysis$cluster, time_unit = unit
    ),
    overall = overall, subgroups_table = rows, at_risk = at_risk
  )
}

cases <- list(
  list(
    name = "gbsg_stratified_adjusted_months",
    cohort = list(
      file = "gbsg.csv", time = "rfstime", event = "status", time_unit = "days",
      arm = "hormon", treatment = "tamoxifen", control = "none", id = "pid"
    ),
    analysis = list(
      strata = I("meno"), level_strata = TRUE, adjust = I(c("age", "size")), time_unit = "months",
      landmark = 60, rmst_tau = 60, risk_times = I(c(0, 12, 24, 36, 48, 60))
    ),
    subgroups = list(list(column = "grade"), list(column = "nodes", cutpoints = I(c(4, 10))))
  ),
  list(
    name = "veteran_text_covariate_lrt",
    cohort = list(
      file = "veteran.csv", time = "time", event = "status", time_unit = "days",
      arm = "trt", treatment = 2, control = 1
    ),
    analysis = list(adjust = I(c("celltype", "karno")), p_method = "lrt", convention = "r"),
    subgroups = list(list(column = "prior"), list(column = "age", cutpoints = I(60)))
  ),
  list(
    name = "rats_cluster_sas",
    cohort = list(
      file = "rats.csv", time = "time", event = "status", time_unit = "days",
      arm = "rx", treatment = 1, control = 0
    ),
    analysis = list(cluster = "litter", convention = "sas"),
    subgroups = list(list(column = "sex"), list(column = "litter", cutpoints = I(c(34, 67))))
  ),
  list(
    name = "rats_cluster_efron",
    cohort = list(
      file = "rats.csv", time = "time", event = "status", time_unit = "days",
      arm = "rx", treatment = 1, control = 0
    ),
    analysis = list(cluster = "litter", convention = "r", landmark = 90),
    subgroups = list(list(column = "litter", cutpoints = I(50)), list(column = "sex"))
  ),
  list(
    name = "diabetic_cluster_id_stratified",
    cohort = list(
      file = "diabetic.csv", time = "time", event = "status", time_unit = "months",
      arm = "trt", treatment = 1, control = 0, id = "id"
    ),
    analysis = list(strata = I("eye"), level_strata = TRUE, cluster = "id", adjust = I("age")),
    subgroups = list(list(column = "laser"), list(column = "risk", cutpoints = I(c(9, 11))))
  ),
  list(
    name = "lung_tern",
    cohort = list(
      file = "lung.csv", time = "time", event = "status", time_unit = "days",
      arm = "sex", treatment = 2, control = 1
    ),
    analysis = list(convention = "tern", landmark = 365, rmst_tau = 365),
    subgroups = list(list(column = "ph.ecog"), list(column = "age", cutpoints = I(c(60, 70))))
  ),
  list(
    name = "lung_sas",
    cohort = list(
      file = "lung.csv", time = "time", event = "status", time_unit = "days",
      arm = "sex", treatment = 2, control = 1
    ),
    analysis = list(convention = "sas", landmark = 365, rmst_tau = 365),
    subgroups = list(list(column = "ph.ecog"), list(column = "age", cutpoints = I(c(60, 70))))
  ),
  list(
    name = "lung_r_explicit_keys_win",
    cohort = list(
      file = "lung.csv", time = "time", event = "status", time_unit = "days",
      arm = "sex", treatment = 2, control = 1
    ),
    analysis = list(convention = "r", p_method = "logrank", conf_type = "plain", landmark = 365),
    subgroups = list(list(column = "age", cutpoints = I(c(60, 70))))
  )
)

results <- lapply(cases, run_case)
write_json_full(
  list(
    provenance = paste0(
      "R ", R.version$major, ".", R.version$minor, ", survival ", packageVersion("survival"),
      "; tests/reference/make_options_reference.R"
    ),
    cases = results
  ),
  file.path(out_dir, "expected", "options.json")
)
cat("options reference written\n")

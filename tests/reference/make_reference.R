# Regenerate survtdm1's R reference values.
#
# Run from the repository root (needs R >= 4.1 with the survival 3.x and jsonlite packages;
# on Debian: apt-get install r-base-core r-cran-survival r-cran-jsonlite):
#
#     Rscript tests/reference/make_reference.R        # or: make reference
#
# It writes, under tests/reference/:
#
#   data/gbsg.csv, data/lung.csv, data/veteran.csv, data/sim.csv
#       Data sets exported from R's survival package (gbsg: hormon recoded "none"/"tamoxifen";
#       lung: status recoded 0/1, NA kept as empty cells), and one cohort simulated here with
#       set.seed(20240601): whole-month times (heavy ties), arms "experimental"/"control" plus
#       a third arm "observation" that plans must exclude, a stratification factor `region`,
#       a categorical biomarker `ihc` with missing values and a level ("3+") in which the
#       experimental arm has no event (degenerate), and continuous biomarkers `score`, `age`.
#   expected/<data>.json
#       Low-level values for tests/test_km_reference.py and tests/test_cox_reference.py:
#       Kaplan-Meier curves per arm for the three confidence types (summary(fit,
#       censored = TRUE), summary(fit, times = ), quantile(fit, 0.5), summary(fit,
#       rmean = tau)$table), survdiff (unstratified, stratified), coxph (treatment alone and
#       with covariates; efron and breslow; unstratified and stratified), anova() LRT, joint
#       Wald tests and cox.zph() global p-values.
#   plans/<name>.toml and expected/battery_<name>.json
#       Three analysis plans in the contract's format and, for each, the values the contract
#       defines for subgroups.csv, summary.json "overall" and at_risk.csv, computed here from
#       the contract's definitions with plain survival calls (no survtdm1 code involved).
#
# Every analysis reads the exported CSV back (read.csv), so R sees exactly the bytes the
# Python tests read. All numbers are written with full precision (jsonlite digits = NA);
# R's NA is written as JSON null.
#
# coxph fits use coxph.control(eps = 1e-11, iter.max = 100): the same estimator as the
# default, iterated further, so that the stored coefficients are the maximum partial
# likelihood estimates to well below the tests' 1e-6 relative tolerance.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

if (!file.exists("tests/reference/make_reference.R")) {
  stop("run this script from the repository root: Rscript tests/reference/make_reference.R")
}
out_dir <- "tests/reference"
dir.create(file.path(out_dir, "data"), showWarnings = FALSE, recursive = TRUE)
dir.create(file.path(out_dir, "expected"), showWarnings = FALSE, recursive = TRUE)
dir.create(file.path(out_dir, "plans"), showWarnings = FALSE, recursive = TRUE)

CONTROL <- coxph.control(eps = 1e-11, iter.max = 100)
CONF_LEVEL <- 0.95
Z <- qnorm(1 - (1 - CONF_LEVEL) / 2)

write_json_full <- function(x, path) {
  write_json(x, path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE)
}

# A number as the contract writes a label: integer-valued without a decimal point.
fmt_num <- function(x) {
  ifelse(x == round(x), formatC(x, format = "d", big.mark = ""), as.character(x))
}

# ---------------------------------------------------------------------------------------
# 1. Data sets
# ---------------------------------------------------------------------------------------

export <- function(df, name) {
  path <- file.path(out_dir, "data", paste0(name, ".csv"))
  write.csv(df, path, row.names = FALSE, na = "")
  read.csv(path, stringsAsFactors = FALSE, na.strings = c("", "NA"))
}

gbsg_out <- survival::gbsg
gbsg_out$hormon <- ifelse(gbsg_out$hormon == 1, "tamoxifen", "none")
gbsg_csv <- export(gbsg_out, "gbsg")

lung_out <- survival::lung
lung_out$status <- as.integer(lung_out$status == 2) # 1 = censored, 2 = dead in R
lung_csv <- export(lung_out, "lung")

veteran_out <- survival::veteran
veteran_out$celltype <- as.character(veteran_out$celltype)
veteran_csv <- export(veteran_out, "veteran")

simulate_cohort <- function() {
  set.seed(20240601)
  n <- 420
  arm <- sample(c("experimental", "control", "observation"), n,
    replace = TRUE,
    prob = c(0.45, 0.45, 0.10)
  )
  region <- sample(c("Asia", "Europe", "North America"), n, replace = TRUE, prob = c(.3, .45, .25))
  ihc <- sample(c("0", "1+", "2+", "3+"), n, replace = TRUE, prob = c(.35, .33, .24, .08))
  ihc[sample(n, 25)] <- NA
  score <- round(rgamma(n, shape = 2, rate = 2), 3)
  age <- round(rnorm(n, 56, 10))
  log_hr <- ifelse(arm == "experimental", -0.35 - 0.25 * (score > 1), 0) +
    ifelse(region == "Asia", -0.3, 0)
  event_time <- rexp(n, rate = 0.025 * exp(log_hr))
  censor_time <- runif(n, 6, 60)
  time <- pmax(1, round(pmin(event_time, censor_time)))
  status <- as.integer(event_time <= censor_time)
  # degenerate level: in IHC 3+ the experimental arm has no event
  status[!is.na(ihc) & ihc == "3+" & arm == "experimental"] <- 0L
  data.frame(
    patient_id = sprintf("P%04d", seq_len(n)), arm = arm, region = region, ihc = ihc,
    score = score, age = age, time_months = time, event = status, stringsAsFactors = FALSE
  )
}
sim_csv <- export(simulate_cohort(), "sim")

# ---------------------------------------------------------------------------------------
# 2. Low-level references (expected/<data>.json)
# ---------------------------------------------------------------------------------------

# One named list of column roles per data set: which rows form the treatment (1) and
# control (0) arms, the stratum column, the covariates (factors get treatment contrasts
# on their sorted levels, as R) and the times / restriction horizon for KM summaries.
low_level_specs <- list(
  gbsg = list(
    data = gbsg_csv, time = "rfstime", event = "status", arm = "hormon",
    treatment = "tamoxifen", control = "none", strata = "meno",
    covariates = c("age", "size", "nodes", "grade"), factors = character(0),
    times = c(0, 100, 365, 730, 1000, 1826.25, 2000), tau = 1826.25
  ),
  lung = list(
    data = lung_csv, time = "time", event = "status", arm = "sex",
    treatment = 2, control = 1, strata = "ph.ecog",
    covariates = c("age", "ph.karno", "wt.loss"), factors = character(0),
    times = c(0, 5, 180, 365, 500, 730), tau = 365
  ),
  veteran = list(
    data = veteran_csv, time = "time", event = "status", arm = "trt",
    treatment = 2, control = 1, strata = "prior",
    covariates = c("karno", "age", "celltype"), factors = "celltype",
    times = c(0, 10, 30, 90, 180, 365), tau = 180
  ),
  sim = list(
    data = sim_csv[sim_csv$arm != "observation", ], time = "time_months", event = "event",
    arm = "arm", treatment = "experimental", control = "control", strata = "region",
    covariates = c("score", "age", "ihc"), factors = "ihc",
    times = c(0, 1, 6, 12, 24, 36), tau = 36
  )
)

km_block <- function(time, event, conf_type, times, tau) {
  fit <- survfit(Surv(time, event) ~ 1, conf.type = conf_type, conf.int = CONF_LEVEL)
  full <- summary(fit, censored = TRUE)
  at <- summary(fit, times = times)
  q <- quantile(fit, 0.5)
  table <- summary(fit, rmean = tau)$table
  list(
    curve = list(
      time = full$time, n_risk = full$n.risk, n_event = full$n.event,
      n_censor = full$n.censor, surv = full$surv, std_err = full$std.err,
      lower = full$lower, upper = full$upper
    ),
    at_times = list(
      time = at$time, n_risk = at$n.risk, surv = at$surv, std_err = at$std.err,
      lower = at$lower, upper = at$upper
    ),
    median = unname(q$quantile), median_lower = unname(q$lower),
    median_upper = unname(q$upper),
    rmean = unname(table["rmean"]), rmean_se = unname(table["se(rmean)"])
  )
}

logrank_block <- function(fit) {
  # survdiff: group "1" (treatment) is the second row.
  obs <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
  exp_ <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
  list(
    chisq = fit$chisq, p_value = pchisq(fit$chisq, df = 1, lower.tail = FALSE),
    observed = unname(obs[2]), expected = unname(exp_[2]), variance = fit$var[2, 2]
  )
}

cox_block <- function(fit) {
  s <- summary(fit, conf.int = CONF_LEVEL)
  coefs <- coef(fit)
  list(
    names = I(names(coefs)), coef = I(unname(coefs)), se = I(unname(sqrt(diag(vcov(fit))))),
    var = unname(vcov(fit)),
    loglik_null = fit$loglik[1], loglik = fit$loglik[2],
    hr = I(unname(s$conf.int[, "exp(coef)"])),
    hr_lower = I(unname(s$conf.int[, 3])), hr_upper = I(unname(s$conf.int[, 4])),
    p_value = I(unname(s$coefficients[, "Pr(>|z|)"])),
    n = fit$n, n_events = fit$nevent
  )
}

wald_block <- function(fit, index) {
  b <- coef(fit)[index]
  chisq <- as.numeric(t(b) %*% solve(vcov(fit)[index, index, drop = FALSE]) %*% b)
  p_value <- pchisq(chisq, length(index), lower.tail = FALSE)
  list(index = index - 1L, chisq = chisq, p_value = p_value) # index: 0-based, as Python
}

zph_p <- function(fit) {
  zph <- cox.zph(fit, transform = "km")
  unname(zph$table["GLOBAL", "p"])
}

low_level <- function(name, spec) {
  d <- spec$data
  d <- d[d[[spec$arm]] %in% c(spec$treatment, spec$control), ]
  time <- d[[spec$time]]
  event <- d[[spec$event]]
  trt <- as.integer(d[[spec$arm]] == spec$treatment)

  km <- list()
  for (arm_name in c("treatment", "control")) {
    rows <- trt == (arm_name == "treatment")
    arm_times <- spec$times[spec$times <= max(time[rows])]
    km[[arm_name]] <- list(
      n_at_risk = vapply(spec$times, function(t) sum(time[rows] >= t), numeric(1))
    )
    for (conf_type in c("log-log", "log", "plain")) {
      km[[arm_name]][[conf_type]] <- km_block(
        time[rows], event[rows], conf_type, arm_times, spec$tau
      )
    }
  }

  known <- !is.na(d[[spec$strata]]) # stratified test: rows with a known stratum
  st_time <- time[known]
  st_event <- event[known]
  st_trt <- trt[known]
  stratum <- d[[spec$strata]][known]
  logrank <- list(
    unstratified = logrank_block(survdiff(Surv(time, event) ~ trt)),
    stratified = logrank_block(survdiff(Surv(st_time, st_event) ~ st_trt + strata(stratum))),
    stratified_n = sum(known)
  )

  # Cox models are all fitted on the rows complete in covariates and stratum, so that the
  # models are nested for anova().
  cc <- complete.cases(d[, c(spec$covariates, spec$strata)])
  dc <- d[cc, ]
  dc$trt <- trt[cc]
  dc$.time <- dc[[spec$time]]
  dc$.event <- dc[[spec$event]]
  dc$.stratum <- dc[[spec$strata]]
  for (f in spec$factors) {
    dc[[f]] <- factor(dc[[f]], levels = sort(unique(dc[[f]]), method = "radix"))
  }
  covariate_terms <- paste(paste0("`", spec$covariates, "`"), collapse = " + ")
  formulas <- list(
    treatment = ".event ~ trt",
    covariates = paste(".event ~ trt +", covariate_terms)
  )
  cox <- list()
  zph <- list()
  for (model in names(formulas)) {
    for (ties in c("efron", "breslow")) {
      for (stratified in c(FALSE, TRUE)) {
        rhs <- sub(".event ~", "Surv(.time, .event) ~", formulas[[model]], fixed = TRUE)
        if (stratified) rhs <- paste(rhs, "+ strata(.stratum)")
        fit <- coxph(as.formula(rhs), data = dc, ties = ties, control = CONTROL)
        key <- paste(model, ties, if (stratified) "stratified" else "unstratified", sep = "_")
        cox[[key]] <- cox_block(fit)
        zph[[key]] <- zph_p(fit)
        if (model == "covariates") {
          reduced <- coxph(as.formula(sub(paste("+", covariate_terms), "", rhs, fixed = TRUE)),
            data = dc, ties = ties, control = CONTROL
          )
          a <- anova(reduced, fit)
          cox[[key]]$anova_vs_treatment <- list(
            chisq = a$Chisq[2], df = a$Df[2], p_value = a[["Pr(>|Chi|)"]][2]
          )
          cox[[key]]$wald_covariates <- wald_block(fit, seq(2, length(coef(fit))))
        }
      }
    }
  }

  out <- list(
    provenance = paste0(
      "R ", R.version$major, ".", R.version$minor, ", survival ",
      packageVersion("survival"), "; tests/reference/make_reference.R"
    ),
    data = paste0("data/", name, ".csv"),
    time = spec$time, event = spec$event, arm = spec$arm,
    treatment = spec$treatment, control = spec$control,
    strata = spec$strata, covariates = spec$covariates, factors = spec$factors,
    times = spec$times, tau = spec$tau,
    n = nrow(d), n_complete = nrow(dc),
    km = km, logrank = logrank, cox = cox, zph_global_p = zph
  )
  write_json_full(out, file.path(out_dir, "expected", paste0(name, ".json")))
}

for (name in names(low_level_specs)) low_level(name, low_level_specs[[name]])

# ---------------------------------------------------------------------------------------
# 3. Full-battery references (plans/<name>.toml, expected/battery_<name>.json)
# ---------------------------------------------------------------------------------------

ARRAY_KEYS <- c("strata", "risk_times", "cutpoints", "quantiles", "levels")

toml_value <- function(x, array) {
  text <- if (is.character(x)) paste0('"', x, '"') else fmt_num(x)
  if (!array) return(text)
  paste0("[", paste(text, collapse = ", "), "]")
}

toml_line <- function(key, x) paste(key, "=", toml_value(x, key %in% ARRAY_KEYS))

write_plan <- function(plan, name) {
  lines <- c(paste("#", plan$title), "[cohort]")
  for (k in names(plan$cohort)) lines <- c(lines, toml_line(k, plan$cohort[[k]]))
  lines <- c(lines, "", "[analysis]")
  for (k in names(plan$analysis)) lines <- c(lines, toml_line(k, plan$analysis[[k]]))
  for (sg in plan$subgroups) {
    lines <- c(lines, "", "[[subgroup]]")
    for (k in names(sg)) lines <- c(lines, toml_line(k, sg[[k]]))
  }
  writeLines(lines, file.path(out_dir, "plans", paste0(name, ".toml")))
}

# Levels of one subgroup (contract, "Levels and labels"): a list with `label` (labels in
# order), `index` (the level's position 1..k for each row, NA when the value is missing).
subgroup_levels <- function(values, sg) {
  known <- !is.na(values)
  if (!is.null(sg$cutpoints)) {
    cuts <- sg$cutpoints
    labels <- c(
      paste0("<", fmt_num(cuts[1])),
      if (length(cuts) > 1) {
        paste(fmt_num(cuts[-length(cuts)]), "to", paste0("<", fmt_num(cuts[-1])))
      },
      paste0(">=", fmt_num(cuts[length(cuts)]))
    )
    index <- findInterval(values, cuts) + 1L # [a, b): a value equal to a cut goes up
  } else if (!is.null(sg$quantiles)) {
    q <- unname(quantile(values[known], sg$quantiles, type = 7))
    labels <- if (identical(sg$quantiles, 0.5)) {
      c("<=median", ">median")
    } else {
      paste0("Q", seq_len(length(q) + 1))
    }
    index <- findInterval(values, q, left.open = TRUE) + 1L # (a, b]: equal goes down
  } else {
    written <- if (is.numeric(values)) fmt_num(values) else as.character(values)
    distinct <- unique(written[known])
    labels <- if (!is.null(sg$levels)) {
      as.character(sg$levels)
    } else if (is.numeric(values)) {
      distinct[order(as.numeric(distinct))]
    } else {
      sort(distinct, method = "radix") # ascending code-point (C locale) order
    }
    index <- match(written, labels)
  }
  index[!known] <- NA_integer_
  list(labels = labels, index = index)
}

na_if_empty <- function(x) if (length(x) == 0) NA_real_ else x

km_arm <- function(time, event, analysis) {
  nothing <- list(
    median = NA_real_, median_lower = NA_real_, median_upper = NA_real_,
    landmark = NA_real_, landmark_lower = NA_real_, landmark_upper = NA_real_,
    landmark_se = NA_real_, rmst = NA_real_, rmst_se = NA_real_
  )
  if (length(time) == 0) return(nothing)
  fit <- survfit(Surv(time, event) ~ 1, conf.type = analysis$conf_type, conf.int = CONF_LEVEL)
  q <- quantile(fit, 0.5)
  out <- nothing
  out$median <- unname(q$quantile)
  out$median_lower <- unname(q$lower)
  out$median_upper <- unname(q$upper)
  # summary(fit, times = t) drops a t after the last follow-up time: NA here.
  if (!is.null(analysis$landmark) && analysis$landmark <= max(time)) {
    s <- summary(fit, times = analysis$landmark)
    out$landmark <- na_if_empty(s$surv)
    out$landmark_lower <- na_if_empty(s$lower)
    out$landmark_upper <- na_if_empty(s$upper)
    out$landmark_se <- na_if_empty(s$std.err)
  }
  if (!is.null(analysis$rmst_tau)) {
    table <- summary(fit, rmean = analysis$rmst_tau)$table
    out$rmst <- unname(table["rmean"])
    out$rmst_se <- unname(table["se(rmean)"])
  }
  out
}

hr_block <- function(fit) {
  s <- summary(fit, conf.int = CONF_LEVEL)
  list(
    hr = unname(s$conf.int[1, "exp(coef)"]), hr_lower = unname(s$conf.int[1, 3]),
    hr_upper = unname(s$conf.int[1, 4]), p_value = unname(s$coefficients[1, "Pr(>|z|)"])
  )
}

difference <- function(a, b, se_a, se_b) {
  d <- a - b
  se <- sqrt(se_a^2 + se_b^2)
  c(d, d - Z * se, d + Z * se)
}

battery <- function(name, plan) {
  write_plan(plan, name)
  analysis <- plan$analysis
  if (is.null(analysis$ties)) analysis$ties <- "efron"
  if (is.null(analysis$conf_type)) analysis$conf_type <- "log-log"
  cohort <- plan$cohort
  raw <- read.csv(file.path(out_dir, "plans", cohort$path),
    stringsAsFactors = FALSE, na.strings = c("", "NA")
  )
  d <- raw[raw[[cohort$arm]] %in% c(cohort$treatment, cohort$control), ]
  time <- d[[cohort$time]]
  event <- d[[cohort$event]]
  trt <- as.integer(d[[cohort$arm]] == cohort$treatment)
  ties <- analysis$ties

  # --- overall ---
  fit <- coxph(Surv(time, event) ~ trt, ties = ties, control = CONTROL)
  overall <- c(
    list(
      n_treatment = sum(trt == 1), n_control = sum(trt == 0),
      events_treatment = sum(event[trt == 1]), events_control = sum(event[trt == 0])
    ),
    hr_block(fit),
    list(
      p_logrank = logrank_block(survdiff(Surv(time, event) ~ trt))$p_value,
      p_ph = zph_p(fit)
    )
  )
  if (!is.null(analysis$strata)) {
    stratum <- interaction(d[analysis$strata], drop = TRUE) # one stratum per combination
    sfit <- coxph(Surv(time, event) ~ trt + strata(stratum), ties = ties, control = CONTROL)
    lr <- survdiff(Surv(time, event) ~ trt + strata(stratum))
    overall$stratified <- c(
      list(strata = I(analysis$strata)),
      hr_block(sfit)[c("hr", "hr_lower", "hr_upper", "p_value")],
      list(p_logrank = logrank_block(lr)$p_value)
    )
  }
  overall$treatment <- km_arm(time[trt == 1], event[trt == 1], analysis)
  overall$control <- km_arm(time[trt == 0], event[trt == 0], analysis)
  lm <- with(overall, difference(
    treatment$landmark, control$landmark, treatment$landmark_se, control$landmark_se
  ))
  rm <- with(overall, difference(treatment$rmst, control$rmst, treatment$rmst_se, control$rmst_se))
  overall$landmark_difference <- lm[1]
  overall$landmark_difference_lower <- lm[2]
  overall$landmark_difference_upper <- lm[3]
  overall$rmst_difference <- rm[1]
  overall$rmst_difference_lower <- rm[2]
  overall$rmst_difference_upper <- rm[3]

  # --- at-risk table: patients with time >= t, per arm ---
  at_risk <- list()
  for (arm_value in c(cohort$treatment, cohort$control)) {
    arm_time <- time[d[[cohort$arm]] == arm_value]
    for (t in analysis$risk_times) {
      at_risk[[length(at_risk) + 1]] <- list(
        arm = as.character(arm_value), time = t, n_at_risk = sum(arm_time >= t)
      )
    }
  }

  # --- subgroups ---
  rows <- list()
  subgroup_info <- list()
  for (sg in plan$subgroups) {
    values <- d[[sg$column]]
    lev <- subgroup_levels(values, sg)
    known <- !is.na(lev$index)
    k <- length(lev$labels)
    kt <- time[known]
    ke <- event[known]
    ka <- trt[known]
    kl <- factor(lev$index[known], levels = seq_len(k))

    # Interaction tests on the rows where the subgroup is known, unstratified.
    warned <- character(0)
    keep_warning <- function(w) {
      warned <<- c(warned, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
    withCallingHandlers(
      {
        main <- coxph(Surv(kt, ke) ~ ka + kl, ties = ties, control = CONTROL)
        full <- coxph(Surv(kt, ke) ~ ka * kl, ties = ties, control = CONTROL)
      },
      warning = keep_warning
    )
    lrt <- 2 * (full$loglik[2] - main$loglik[2])
    a <- anova(main, full)
    inter <- grep(":", names(coef(full)))
    inter <- inter[!is.na(coef(full)[inter])] # aliased (NA) terms are not estimable
    # df = levels - 1, less the interaction terms that are not estimable (a level
    # holding one arm only), exactly as anova() counts them
    p_interaction <- pchisq(lrt, df = length(inter), lower.tail = FALSE)
    b <- coef(full)[inter]
    wald <- as.numeric(t(b) %*% solve(vcov(full)[inter, inter, drop = FALSE]) %*% b)
    p_interaction_wald <- pchisq(wald, df = length(inter), lower.tail = FALSE)
    p_trend <- NA_real_
    if (!is.null(sg$cutpoints) || !is.null(sg$quantiles)) {
      rank <- lev$index[known]
      trend <- coxph(Surv(kt, ke) ~ ka * rank, ties = ties, control = CONTROL)
      p_trend <- unname(summary(trend)$coefficients["ka:rank", "Pr(>|z|)"])
    }
    subgroup_info[[sg$column]] <- list(
      levels = I(lev$labels), lrt_chisq = lrt, lrt_df = length(inter),
      anova_df = a$Df[2], anova_p = a[["Pr(>|Chi|)"]][2],
      wald_df = length(inter), monotone_likelihood = length(warned) > 0,
      warnings = I(unique(warned))
    )

    for (i in seq_len(k)) {
      in_level <- known & lev$index == i
      lt <- time[in_level]
      le <- event[in_level]
      la <- trt[in_level]
      row <- list(
        subgroup = sg$column, level = lev$labels[i],
        n_treatment = sum(la == 1), n_control = sum(la == 0),
        events_treatment = sum(le[la == 1]), events_control = sum(le[la == 0]),
        hr = NA_real_, hr_lower = NA_real_, hr_upper = NA_real_, p_value = NA_real_,
        p_interaction = p_interaction, n_missing = sum(!known),
        p_interaction_wald = p_interaction_wald, p_trend = p_trend
      )
      degenerate <- row$events_treatment == 0 || row$events_control == 0
      if (!degenerate) {
        row[c("hr", "hr_lower", "hr_upper", "p_value")] <-
          hr_block(coxph(Surv(lt, le) ~ la, ties = ties, control = CONTROL))
      }
      km_t <- km_arm(lt[la == 1], le[la == 1], analysis)
      km_c <- km_arm(lt[la == 0], le[la == 0], analysis)
      row$median_treatment <- km_t$median
      row$median_control <- km_c$median
      row$landmark_treatment <- km_t$landmark
      row$landmark_control <- km_c$landmark
      row$degenerate <- degenerate
      rows[[length(rows) + 1]] <- row
    }
  }

  out <- list(
    provenance = paste0(
      "R ", R.version$major, ".", R.version$minor, ", survival ",
      packageVersion("survival"), "; tests/reference/make_reference.R"
    ),
    plan = paste0("plans/", name, ".toml"),
    overall = overall, subgroups = rows, subgroup_info = subgroup_info, at_risk = at_risk
  )
  write_json_full(out, file.path(out_dir, "expected", paste0("battery_", name, ".json")))
}

plans <- list(
  gbsg = list(
    title = "gbsg: the settings of the shared gbsg-plan.toml (R survival's gbsg).",
    cohort = list(
      path = "../data/gbsg.csv", time = "rfstime", event = "status", time_unit = "days",
      arm = "hormon", treatment = "tamoxifen", control = "none"
    ),
    analysis = list(
      strata = "meno", landmark = 1826.25, rmst_tau = 1826.25,
      risk_times = c(0, 365, 730, 1095, 1461, 1826, 2191)
    ),
    subgroups = list(
      list(column = "er", cutpoints = 10),
      list(column = "pgr", cutpoints = 10),
      list(column = "grade"),
      list(column = "meno"),
      list(column = "nodes", cutpoints = c(4, 10)),
      list(column = "age", quantiles = 0.5)
    )
  ),
  lung = list(
    title = "lung: integer-coded arm (sex 2 vs 1), missing subgroup values, ph.ecog 3 degenerate.",
    cohort = list(
      path = "../data/lung.csv", time = "time", event = "status", time_unit = "days",
      arm = "sex", treatment = 2, control = 1
    ),
    analysis = list(
      ties = "breslow", conf_type = "log", landmark = 365, rmst_tau = 365,
      risk_times = c(0, 180, 365, 540, 730)
    ),
    subgroups = list(
      list(column = "ph.ecog"),
      list(column = "age", cutpoints = c(60, 70)),
      list(column = "wt.loss", quantiles = c(0.25, 0.5, 0.75)),
      list(column = "meal.cal", quantiles = 0.5)
    )
  ),
  sim = list(
    title = "sim: simulated whole-month cohort, third arm excluded, strata, plain CIs.",
    cohort = list(
      path = "../data/sim.csv", time = "time_months", event = "event", time_unit = "months",
      arm = "arm", treatment = "experimental", control = "control", id = "patient_id"
    ),
    analysis = list(
      ties = "efron", strata = "region", conf_type = "plain", landmark = 24, rmst_tau = 36,
      risk_times = c(0, 12, 24, 36, 48)
    ),
    subgroups = list(
      list(column = "ihc"),
      list(column = "score", cutpoints = c(0.5, 1.5)),
      list(column = "age", quantiles = c(0.25, 0.5, 0.75)),
      list(column = "region", levels = c("North America", "Europe", "Asia"))
    )
  )
)

for (name in names(plans)) battery(name, plans[[name]])
cat("reference files written under", out_dir, "\n")

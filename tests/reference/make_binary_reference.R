# Reference values for binary endpoints (logistic models), from base R glm.
# Run from the repository root:  Rscript tests/reference/make_binary_reference.R
# Writes tests/reference/data/binary_cohort.csv and
#        tests/reference/expected/binary_battery.json
# The cohort is simulated here with a fixed seed; survtdm1's tests read both files.
library(jsonlite)
# glm stops at a relative deviance change of 1e-8 by default, which leaves p-values
# about 1e-6 from the exact maximum; the reference converges fully.
tight <- glm.control(epsilon = 1e-14, maxit = 100)
nested <- glm.control(epsilon = 1e-10, maxit = 100)
set.seed(20261126)
n <- 420
arm <- sample(c("T-DM1+P", "TCH+P"), n, replace = TRUE)
pik3ca <- sample(c("mutated", "wild-type", NA), n, replace = TRUE, prob = c(.25, .6, .15))
her2 <- round(rnorm(n, 10, 2), 3)
lp <- -0.2 + 0.5 * (arm == "TCH+P") - 0.6 * (pik3ca %in% "mutated" & arm == "T-DM1+P") +
  0.15 * (her2 - 10)
pcr <- rbinom(n, 1, plogis(lp))
# one degenerate level: every patient of grade "4" in the T-DM1+P arm responds
grade <- sample(c("1", "2", "3"), n, replace = TRUE)
grade[which(arm == "T-DM1+P")[1:6]] <- "4"
grade[which(arm == "TCH+P")[1:5]] <- "4"
pcr[grade == "4" & arm == "T-DM1+P"] <- 1
# a level holding one arm only: its interaction term is not estimable (NA in glm)
site <- sample(c("north", "south"), n, replace = TRUE)
site[which(arm == "T-DM1+P")[7:9]] <- "west"
d <- data.frame(patient_id = 1:n, arm = arm, pcr = pcr, pik3ca = pik3ca, her2_mrna = her2,
                grade = grade, site = site)
write.csv(d, "tests/reference/data/binary_cohort.csv", row.names = FALSE, na = "")

trt <- as.integer(d$arm == "T-DM1+P")
level_row <- function(rows) {
  y <- d$pcr[rows]; t <- trt[rows]
  out <- list(n_treatment = sum(t == 1), n_control = sum(t == 0),
              responders_treatment = sum(y[t == 1]), responders_control = sum(y[t == 0]))
  pt <- mean(y[t == 1]); pc <- mean(y[t == 0])
  se <- sqrt(pt * (1 - pt) / sum(t == 1) + pc * (1 - pc) / sum(t == 0))
  for (arm in c("treatment", "control")) {
    k <- if (arm == "treatment") 1 else 0
    ci <- if (sum(t == k) > 0) binom.test(sum(y[t == k]), sum(t == k))$conf.int else c(NA, NA)
    out[[paste0("rate_", arm, "_lower")]] <- ci[1]
    out[[paste0("rate_", arm, "_upper")]] <- ci[2]
  }
  out$rd <- pt - pc; out$rd_lower <- pt - pc - qnorm(.975) * se
  out$rd_upper <- pt - pc + qnorm(.975) * se
  cells <- c(sum(y[t == 1]), sum(1 - y[t == 1]), sum(y[t == 0]), sum(1 - y[t == 0]))
  if (any(cells == 0)) {
    out$degenerate <- TRUE
    out[c("or", "or_lower", "or_upper", "p_value")] <- NA
    return(out)
  }
  fit <- glm(y ~ t, family = binomial, control = tight)
  ci <- confint.default(fit)["t", ]
  out$or <- exp(coef(fit)[["t"]]); out$or_lower <- exp(ci[[1]]); out$or_upper <- exp(ci[[2]])
  out$p_value <- summary(fit)$coefficients["t", 4]
  out$degenerate <- FALSE
  out
}
interaction <- function(f) {
  known <- !is.na(f)
  y <- d$pcr[known]; t <- trt[known]; g <- factor(f[known])
  # 1e-14 leaves glm's rank detection unable to settle on an aliased term
  # (a level holding one arm only); 1e-10 converges and still agrees to < 1e-7
  m0 <- glm(y ~ t + g, family = binomial, control = nested)
  m1 <- glm(y ~ t * g, family = binomial, control = nested)
  lrt <- anova(m0, m1, test = "LRT")
  idx <- grep("^t:g", names(coef(m1)))
  idx <- idx[!is.na(coef(m1)[idx])]  # aliased terms are not estimable
  b <- coef(m1)[idx]; v <- vcov(m1)[idx, idx, drop = FALSE]
  # a separated fit has a singular variance: no Wald test (not compared)
  wald <- tryCatch(pchisq(drop(t(b) %*% solve(v) %*% b), length(idx), lower.tail = FALSE),
                   error = function(e) NA)
  list(p_interaction = lrt[2, "Pr(>Chi)"], p_interaction_wald = wald)
}
rows <- list()
add_subgroup <- function(name, f, labels, test_wald = TRUE) {
  tests <- interaction(f)
  for (lab in labels) {
    r <- level_row(which(f == lab))
    r$subgroup <- name; r$level <- lab
    r$p_interaction <- tests$p_interaction
    r$p_interaction_wald <- if (test_wald) tests$p_interaction_wald else NA
    r$n_missing <- sum(is.na(f))
    rows[[length(rows) + 1]] <<- r
  }
}
add_subgroup("pik3ca", d$pik3ca, c("mutated", "wild-type"))
med <- quantile(d$her2_mrna, 0.5, type = 7)
her2_level <- ifelse(d$her2_mrna <= med, "<=median", ">median")
add_subgroup("her2_mrna", her2_level, c("<=median", ">median"))
# grade: the Wald test of a separated fit is not reported (see binary.py)
add_subgroup("grade", d$grade, c("1", "2", "3", "4"), test_wald = FALSE)
add_subgroup("site", d$site, c("north", "south", "west"))
overall <- level_row(seq_len(n))
writeLines(toJSON(list(rows = rows, overall = overall), auto_unbox = TRUE, digits = NA,
                  na = "null", pretty = TRUE),
           "tests/reference/expected/binary_battery.json")

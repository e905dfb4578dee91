"""Baseline: the same numbers from R survival, timed inside R with ``system.time``.

Python writes the analysed rows (time, event, treated and one integer level
code per subgroup, computed by :func:`lifelines_loop.levels`) to a CSV file;
the R script reads it outside the timed region, then runs the battery
``repeats`` times and reports the median elapsed time and the estimates.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

R_SCRIPT = r"""
suppressMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
repeats <- as.integer(args[3]); landmark <- as.numeric(args[4]); tau <- as.numeric(args[5])
ordered <- if (nchar(args[6])) strsplit(args[6], ",")[[1]] else character(0)
subgroups <- setdiff(names(d), c("time", "event", "treated"))
est <- list()
put <- function(key, value) est[[key]] <<- as.numeric(value)

level_fit <- function(rows, key) {
  s <- summary(coxph(Surv(time, event) ~ treated, data = rows))
  put(paste0(key, ".hr"), s$conf.int[1, 1]); put(paste0(key, ".hr_lower"), s$conf.int[1, 3])
  put(paste0(key, ".hr_upper"), s$conf.int[1, 4])
  put(paste0(key, ".p_value"), s$coefficients[1, 5])
  km <- survfit(Surv(time, event) ~ treated, data = rows)
  med <- quantile(km, 0.5)$quantile
  put(paste0(key, ".median_control"), med[1]); put(paste0(key, ".median_treatment"), med[2])
  for (arm in c(0, 1)) {
    one <- survfit(Surv(time, event) ~ 1, data = rows[rows$treated == arm, ])
    at <- summary(one, times = landmark)$surv
    put(paste0(key, ".landmark_", c("control", "treatment")[arm + 1]), if (length(at)) at else NA)
  }
}

battery <- function() {
  for (sg in subgroups) {
    known <- d[!is.na(d[[sg]]), ]
    known$level <- factor(known[[sg]])
    reduced <- coxph(Surv(time, event) ~ treated + level, data = known)
    full <- coxph(Surv(time, event) ~ treated * level, data = known)
    p_int <- anova(reduced, full)[2, "Pr(>|Chi|)"]
    terms <- grep(":", names(coef(full)))
    b <- coef(full)[terms]; V <- vcov(full)[terms, terms, drop = FALSE]
    p_wald <- pchisq(drop(t(b) %*% solve(V, b)), length(terms), lower.tail = FALSE)
    p_trend <- NA
    if (sg %in% ordered) {
      known$rank <- known[[sg]] + 1
      trend <- coxph(Surv(time, event) ~ treated * rank, data = known)
      p_trend <- summary(trend)$coefficients["treated:rank", 5]
    }
    for (k in sort(unique(known[[sg]]))) {
      key <- paste0(sg, "=", k)
      level_fit(known[known[[sg]] == k, ], key)
      put(paste0(key, ".p_interaction"), p_int); put(paste0(key, ".p_interaction_wald"), p_wald)
      put(paste0(key, ".p_trend"), p_trend)
    }
  }
  overall()
}

overall <- function() {
  fit <- coxph(Surv(time, event) ~ treated, data = d)
  s <- summary(fit)
  put("overall.hr", s$conf.int[1, 1]); put("overall.hr_lower", s$conf.int[1, 3])
  put("overall.hr_upper", s$conf.int[1, 4]); put("overall.p_value", s$coefficients[1, 5])
  lr <- survdiff(Surv(time, event) ~ treated, data = d)
  put("overall.p_logrank", pchisq(lr$chisq, 1, lower.tail = FALSE))
  put("overall.p_ph", cox.zph(fit)$table["GLOBAL", "p"])
  for (arm in c(0, 1)) {
    name <- c("control", "treatment")[arm + 1]
    km <- survfit(Surv(time, event) ~ 1, data = d[d$treated == arm, ], conf.type = "log-log")
    q <- quantile(km, 0.5)
    at <- summary(km, times = landmark)
    rm <- summary(km, rmean = tau)$table
    key <- paste0("overall.", name, ".")
    put(paste0(key, "median"), q$quantile); put(paste0(key, "median_lower"), q$lower)
    put(paste0(key, "median_upper"), q$upper); put(paste0(key, "landmark"), at$surv)
    put(paste0(key, "landmark_lower"), at$lower); put(paste0(key, "landmark_upper"), at$upper)
    put(paste0(key, "rmst"), rm["rmean"]); put(paste0(key, "rmst_se"), rm["se(rmean)"])
  }
}

elapsed <- median(replicate(repeats, system.time(battery())[["elapsed"]]))
out <- data.frame(key = c("elapsed", names(est)), value = c(elapsed, unlist(est)))
write.csv(out, args[2], row.names = FALSE)
"""


def available() -> bool:
    return shutil.which("Rscript") is not None


def r_version() -> str:
    try:
        done = subprocess.run(
            [
                "Rscript",
                "-e",
                'cat(R.version.string, "| survival", format(packageVersion("survival")))',
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return "unavailable"
    return done.stdout.strip()


def run(frame: pd.DataFrame, *, ordered, labels, landmark, rmst_tau, repeats) -> tuple[float, dict]:
    """Run the battery in R; returns (fastest elapsed seconds, estimates keyed as ours).

    ``frame`` holds time, event, treated and one integer code column per subgroup
    (missing = NaN); ``labels[column][code]`` is the level label.
    """
    with tempfile.TemporaryDirectory() as tmp:
        data, out, script = (Path(tmp) / name for name in ("data.csv", "out.csv", "b.R"))
        frame.to_csv(data, index=False, na_rep="NA")
        script.write_text(R_SCRIPT)
        args = [str(data), str(out), str(repeats), str(landmark), str(rmst_tau), ",".join(ordered)]
        subprocess.run(["Rscript", str(script), *args], check=True, capture_output=True)
        result = pd.read_csv(out)
    values = dict(zip(result["key"], result["value"].astype(float), strict=True))
    elapsed = values.pop("elapsed")
    estimates = {}
    for key, value in values.items():
        head, field = key.rsplit(".", 1)
        if "=" in head:
            column, code = head.split("=", 1)
            head = f"{column}={labels[column][int(float(code))]}"
        estimates[f"{head}.{field}"] = value if np.isfinite(value) else float("nan")
    return elapsed, estimates


def describe() -> str:
    return json.dumps({"Rscript": shutil.which("Rscript"), "version": r_version()})

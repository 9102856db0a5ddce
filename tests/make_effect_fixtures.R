# Regenerate the reference fixtures that tests/test_effects.py compares against.
#
#   Rscript tests/make_effect_fixtures.R          (or: make fixtures)
#
# Needs R with metafor (Debian: apt-get install r-base-core r-cran-metafor).
# Input:  tests/fixtures/effect_inputs.csv      (case, study, yi, sei)
#         tests/fixtures/proportion_inputs.csv  (case, group, events, n)
# Output: tests/fixtures/metafor_effects.csv    (case, option, statistic, index, value)
#
# Effects: rma(yi, sei = sei, method = M, test = T) for every tau^2 estimator (and the
# common-effect model, method = "FE") and test (z, knha, adhoc), with predict() (and,
# for k >= 3, predict(pi.type = "riley"): t on k - 2 df); option "tau2|ci".
# Cumulative: cumul() of those fits in the order given, option "cumul|tau2|ci" with
# index = the number of studies pooled; for the proportion cases, of
# rma(measure = "PLO") with escalc's default continuity correction, option
# "cumul_plo|tau2|ci".

suppressPackageStartupMessages(library(metafor))

args <- commandArgs(trailingOnly = FALSE)
script <- normalizePath(sub("^--file=", "", args[grep("^--file=", args)]))
fixtures <- file.path(dirname(script), "fixtures")
effects <- read.csv(file.path(fixtures, "effect_inputs.csv"), stringsAsFactors = FALSE)
proportions <- read.csv(file.path(fixtures, "proportion_inputs.csv"), stringsAsFactors = FALSE,
                        na.strings = character(0))

rows <- list()
emit <- function(case, option, statistic, value, index = NA_integer_) {
  if (length(value) == 0) return(invisible(NULL))  # a field metafor does not give (e.g. tau^2 of a cumulative FE fit)
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, option = option, statistic = statistic, index = index,
    value = sprintf("%.17g", as.numeric(value)), stringsAsFactors = FALSE)
}

METHODS <- c("DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS", "FE")
TESTS <- c(z = "z", hksj = "knha", "hksj-adhoc" = "adhoc")

emit_fit <- function(case, option, fit, k) {
  p <- predict(fit)
  emit(case, option, "mu", fit$b[1])
  emit(case, option, "se", fit$se)
  emit(case, option, "ci_low", fit$ci.lb)
  emit(case, option, "ci_high", fit$ci.ub)
  emit(case, option, "z", fit$zval)
  emit(case, option, "p", fit$pval)
  emit(case, option, "tau2", fit$tau2)
  emit(case, option, "i2", fit$I2)
  emit(case, option, "h2", fit$H2)
  emit(case, option, "q", fit$QE)
  emit(case, option, "q_p", fit$QEp)
  emit(case, option, "pi_low", p$pi.lb)
  emit(case, option, "pi_high", p$pi.ub)
  if (k >= 3) {
    r <- predict(fit, pi.type = "riley")
    emit(case, option, "pi_t_low", r$pi.lb)
    emit(case, option, "pi_t_high", r$pi.ub)
  }
}

emit_cumul <- function(case, option, fit) {
  cu <- cumul(fit)
  for (i in seq_along(cu$estimate)) {
    emit(case, option, "mu", cu$estimate[i], i)
    emit(case, option, "se", cu$se[i], i)
    emit(case, option, "ci_low", cu$ci.lb[i], i)
    emit(case, option, "ci_high", cu$ci.ub[i], i)
    emit(case, option, "tau2", cu$tau2[i], i)
    emit(case, option, "i2", cu$I2[i], i)
    emit(case, option, "h2", cu$H2[i], i)
    emit(case, option, "q", cu$QE[i], i)
    emit(case, option, "q_p", cu$QEp[i], i)
  }
}

for (case in unique(effects$case)) {
  d <- effects[effects$case == case, ]
  k <- nrow(d)
  for (method in METHODS) {
    for (ci in names(TESTS)) {
      fit <- suppressWarnings(rma(yi = d$yi, sei = d$sei, method = method, test = TESTS[[ci]]))
      emit_fit(case, paste(method, ci, sep = "|"), fit, k)
      if (method %in% c("DL", "REML", "FE") && ci != "hksj-adhoc" && k > 1) {
        emit_cumul(case, paste("cumul", method, ci, sep = "|"), fit)
      }
    }
  }
}

for (case in c("crs_any", "neurotox", "cr", "crs_severe")) {
  d <- proportions[proportions$case == case, ]
  es <- escalc(measure = "PLO", xi = d$events, ni = d$n)
  for (method in c("DL", "REML")) {
    for (ci in c("z", "hksj")) {
      fit <- suppressWarnings(rma(yi, vi, data = es, method = method, test = TESTS[[ci]]))
      emit_cumul(case, paste("cumul_plo", method, ci, sep = "|"), fit)
    }
  }
}

out <- do.call(rbind, rows)
write.csv(out, file.path(fixtures, "metafor_effects.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("wrote %d values to %s\n", nrow(out), file.path(fixtures, "metafor_effects.csv")))

# Regenerate the reference fixtures that tests/test_proportions.py compares against.
#
#   Rscript tests/make_fixtures.R          (or: make fixtures)
#
# Needs R with metafor (Debian: apt-get install r-base-core r-cran-metafor).
# Input:  tests/fixtures/proportion_inputs.csv  (case, group, events, n)
# Output: tests/fixtures/metafor_proportions.csv (case, option, statistic, index, value)
#
# Pooled cases: escalc(measure = "PLO") + rma(method = "DL") + predict(transf = ilogit),
# once per continuity-correction rule. Cases whose name starts with "sub_" are subgroup
# analyses as R's meta does them with a separate tau^2 per subgroup: one rma() per
# subgroup, then a fixed-effect rma() on the subgroup estimates, whose Q is the
# between-subgroup statistic. Per-study exact CIs come from binom.test().

suppressPackageStartupMessages(library(metafor))

args <- commandArgs(trailingOnly = FALSE)
script <- normalizePath(sub("^--file=", "", args[grep("^--file=", args)]))
fixtures <- file.path(dirname(script), "fixtures")
inputs <- read.csv(file.path(fixtures, "proportion_inputs.csv"),
                   stringsAsFactors = FALSE, na.strings = character(0))

rows <- list()
emit <- function(case, option, statistic, value, index = NA_integer_) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, option = option, statistic = statistic, index = index,
    value = sprintf("%.17g", as.numeric(value)), stringsAsFactors = FALSE)
}

fit_dl <- function(x, n, add = 0.5, to = "only0") {
  es <- escalc(measure = "PLO", xi = x, ni = n, add = add, to = to)
  rma(yi, vi, data = es, method = "DL")
}

emit_fit <- function(case, option, fit) {
  pred <- predict(fit, transf = transf.ilogit)
  emit(case, option, "estimate", pred$pred)
  emit(case, option, "ci_low", pred$ci.lb)
  emit(case, option, "ci_high", pred$ci.ub)
  emit(case, option, "pi_low", pred$pi.lb)
  emit(case, option, "pi_high", pred$pi.ub)
  emit(case, option, "mu", fit$b[1])
  emit(case, option, "se", fit$se)
  emit(case, option, "tau2", fit$tau2)
  emit(case, option, "i2", fit$I2)
  emit(case, option, "h2", fit$H2)
  emit(case, option, "q", fit$QE)
  emit(case, option, "q_p", fit$QEp)
  emit(case, option, "k", fit$k)
  w <- weights(fit)
  for (i in seq_along(w)) emit(case, option, "weight", w[i], i)
}

for (case in unique(inputs$case)) {
  d <- inputs[inputs$case == case, ]
  if (startsWith(case, "sub_")) {
    groups <- unique(d$group)
    est <- se <- numeric(0)
    for (g in groups) {
      s <- d[d$group == g, ]
      fit <- fit_dl(s$events, s$n)
      emit_fit(case, g, fit)
      est <- c(est, fit$b[1])
      se <- c(se, fit$se)
    }
    between <- rma(yi = est, sei = se, method = "FE")
    emit(case, "between", "q_between", between$QE)
    emit(case, "between", "df", length(groups) - 1)
    emit(case, "between", "p", between$QEp)
  } else {
    for (to in c("only0", "all", "if0all")) emit_fit(case, to, fit_dl(d$events, d$n, to = to))
    for (i in seq_len(nrow(d))) {
      ci <- binom.test(d$events[i], d$n[i])$conf.int
      emit(case, "exact", "cp_low", ci[1], i)
      emit(case, "exact", "cp_high", ci[2], i)
    }
  }
}

out <- do.call(rbind, rows)
write.csv(out, file.path(fixtures, "metafor_proportions.csv"), row.names = FALSE)
cat(sprintf("wrote %d reference values (metafor %s, %s)\n", nrow(out),
            as.character(packageVersion("metafor")), R.version.string))

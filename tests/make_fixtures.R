# Regenerate the reference fixtures that tests/test_proportions.py compares against.
#
#   Rscript tests/make_fixtures.R          (or: make fixtures)
#
# Needs R with metafor and lme4 (Debian: apt-get install r-base-core r-cran-metafor
# r-cran-lme4).
# Input:  tests/fixtures/proportion_inputs.csv  (case, group, events, n)
# Output: tests/fixtures/metafor_proportions.csv (case, option, statistic, index, value),
#         tests/fixtures/metafor_diagnostics.csv (same columns), and
#         tests/fixtures/metafor_heterogeneity.csv (same columns) with the random datasets
#         it was computed on in tests/fixtures/heterogeneity_inputs.csv (case, events, n)
#
# Pooled cases: escalc(measure = M) + rma(method = T, test = Z) + predict(transf = ...),
# for every measure (PLO, PLN, PR, PAS, PFT), tau^2 estimator (DL, REML, ML, PM, HE,
# SJ, EB, HS) and test (z, knha, adhoc), all with metafor's default control settings; option
# "transform|tau2|ci". Options "only0", "all", "if0all" vary the continuity correction
# (PLO, DL, z); "arcsine|only0" etc. apply an explicit correction to PAS and PFT,
# which get none by default. Where k >= 3, "pi_t_low"/"pi_t_high" are predict(pi.type =
# "riley"): t on k - 2 df. Option "glmm" is rma.glmm(measure = "PLO") (lme4 glmer,
# nAGQ = 7) with its likelihood-ratio heterogeneity test; option "glmm_hessian" has the
# standard error from central differences (step 1e-3) of lme4's own 7-point deviance
# function, which lme4's vcov() (step 1e-4) gets wrong when n is large. Cases whose name starts with "sub_" are subgroup
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

MEASURES <- c(logit = "PLO", log = "PLN", raw = "PR", arcsine = "PAS", "freeman-tukey" = "PFT")
METHODS <- c("DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS")
TESTS <- c(z = "z", hksj = "knha", "hksj-adhoc" = "adhoc")

# add/to left unset use escalc's defaults for the measure (PAS and PFT: no correction).
fit <- function(x, n, measure = "PLO", method = "DL", test = "z", add = NULL, to = NULL) {
  es <- if (is.null(add)) {
    escalc(measure = measure, xi = x, ni = n)
  } else {
    escalc(measure = measure, xi = x, ni = n, add = add, to = to)
  }
  rma(yi, vi, data = es, method = method, test = test)
}

back_transform <- function(fit, measure, n, ...) {
  switch(measure,
    PLO = predict(fit, transf = transf.ilogit, ...),
    PLN = predict(fit, transf = exp, ...),
    PR = predict(fit, ...),
    PAS = predict(fit, transf = transf.iarcsin, ...),
    PFT = predict(fit, transf = transf.ipft.hm, targs = list(ni = n), ...))
}

emit_fit <- function(case, option, fit, measure = "PLO", n = NULL) {
  pred <- back_transform(fit, measure, n)
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
  glmm <- inherits(fit, "rma.glmm")  # its heterogeneity statistic: the likelihood-ratio test
  emit(case, option, "q", if (glmm) fit$QE.LRT else fit$QE)
  emit(case, option, "q_p", if (glmm) fit$QEp.LRT else fit$QEp)
  emit(case, option, "k", fit$k)
  if (!glmm) {  # a GLMM has no inverse-variance weights
    w <- weights(fit)
    for (i in seq_along(w)) emit(case, option, "weight", w[i], i)
    if (fit$k >= 3) {
      riley <- back_transform(fit, measure, n, pi.type = "riley")
      emit(case, option, "pi_t_low", riley$pi.lb)
      emit(case, option, "pi_t_high", riley$pi.ub)
    }
  }
}

# SE of mu from the Hessian of lme4's 7-point deviance by central differences (step 1e-3).
glmm_hessian <- function(case, x, n, fit, h = 1e-3) {
  d <- data.frame(x = x, n = n, study = factor(seq_along(x)))
  dev <- lme4::glmer(cbind(x, n - x) ~ 1 + (1 | study), data = d, family = binomial,
                     nAGQ = 7, devFunOnly = TRUE)
  theta <- c(sqrt(fit$tau2), fit$b[1])
  loglik <- function(q) -dev(q) / 2
  H <- matrix(0, 2, 2)
  for (i in 1:2) for (j in 1:2) {
    ei <- (1:2 == i) * h
    ej <- (1:2 == j) * h
    H[i, j] <- (loglik(theta + ei + ej) - loglik(theta + ei - ej) - loglik(theta - ei + ej) +
                loglik(theta - ei - ej)) / (4 * h^2)
  }
  se <- sqrt(solve(-H)[2, 2])
  crit <- qnorm(0.975)
  emit(case, "glmm_hessian", "se", se)
  emit(case, "glmm_hessian", "ci_low", transf.ilogit(fit$b[1] - crit * se))
  emit(case, "glmm_hessian", "ci_high", transf.ilogit(fit$b[1] + crit * se))
  emit(case, "glmm_hessian", "pi_low", transf.ilogit(fit$b[1] - crit * sqrt(se^2 + fit$tau2)))
  emit(case, "glmm_hessian", "pi_high", transf.ilogit(fit$b[1] + crit * sqrt(se^2 + fit$tau2)))
}

# Every option combination; where metafor refuses (an error) or warns, record it so
# the Python side can be required to refuse or warn too.
emit_or_error <- function(case, option, expr, measure, n) {
  warned <- FALSE
  result <- withCallingHandlers(
    tryCatch(expr, error = function(e) e),
    warning = function(w) {
      warned <<- TRUE
      invokeRestart("muffleWarning")
    })
  if (warned) emit(case, option, "warning", 1)
  if (inherits(result, "error")) {
    emit(case, option, "error", 1)
  } else {
    emit_fit(case, option, result, measure, n)
  }
}

for (case in unique(inputs$case)) {
  d <- inputs[inputs$case == case, ]
  if (startsWith(case, "sub_")) {
    groups <- unique(d$group)
    est <- se <- numeric(0)
    for (g in groups) {
      s <- d[d$group == g, ]
      f <- fit(s$events, s$n)
      emit_fit(case, g, f, "PLO", s$n)
      est <- c(est, f$b[1])
      se <- c(se, f$se)
    }
    between <- rma(yi = est, sei = se, method = "FE")
    emit(case, "between", "q_between", between$QE)
    emit(case, "between", "df", length(groups) - 1)
    emit(case, "between", "p", between$QEp)
  } else {
    for (to in c("only0", "all", "if0all")) emit_or_error(case, to, fit(d$events, d$n, add = 0.5, to = to), "PLO", d$n)
    for (transform in c("arcsine", "freeman-tukey")) for (to in c("only0", "all")) {
      measure <- MEASURES[[transform]]
      emit_or_error(case, paste(transform, to, sep = "|"), fit(d$events, d$n, measure, add = 0.5, to = to), measure, d$n)
    }
    for (transform in names(MEASURES)) for (method in METHODS) for (ci in names(TESTS)) {
      measure <- MEASURES[[transform]]
      option <- paste(transform, method, ci, sep = "|")
      emit_or_error(case, option, fit(d$events, d$n, measure, method, TESTS[[ci]]), measure, d$n)
    }
    glmm <- tryCatch(rma.glmm(measure = "PLO", xi = d$events, ni = d$n), error = function(e) e)
    if (inherits(glmm, "error")) {
      emit(case, "glmm", "error", 1)
    } else {
      emit_fit(case, "glmm", glmm, "PLO", d$n)
      glmm_hessian(case, d$events, d$n, glmm)
    }
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

# --- diagnostics: metafor_diagnostics.csv (case, option, statistic, index, value) ---------
# leave1out(), influence(), baujat(), regtest() and gosh() (all subsets) on fitted models,
# and meta-regressions rma(yi, vi, mods = ...) for categorical and continuous moderators.
rows <- list()
DIAG_CASES <- c("crs_any", "neurotox", "cr", "extreme_heterogeneity", "k3_zero")
DIAG_OPTIONS <- list(c("logit", "DL", "z"), c("logit", "REML", "hksj"), c("freeman-tukey", "PM", "z"))

emit_vector <- function(case, option, statistic, values) {
  for (i in seq_along(values)) emit(case, option, statistic, values[i], i)
}

for (case in DIAG_CASES) {
  d <- inputs[inputs$case == case, ]
  for (o in DIAG_OPTIONS) {
    measure <- MEASURES[[o[1]]]
    option <- paste(o, collapse = "|")
    f <- fit(d$events, d$n, measure, o[2], TESTS[[o[3]]])
    l1o <- leave1out(f)
    for (stat in c("estimate", "se", "ci.lb", "ci.ub", "tau2", "I2", "H2", "Q", "Qp")) {
      emit_vector(case, option, paste0("l1o_", stat), l1o[[stat]])
    }
    inf <- influence(f)
    for (stat in c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight")) {
      emit_vector(case, option, paste0("inf_", stat), inf$inf[[stat]])
    }
    emit_vector(case, option, "inf_dfbs", inf$dfbs[[1]])
    emit_vector(case, option, "inf_is_infl", as.numeric(inf$is.infl))
    pdf(NULL)
    b <- baujat(f)
    dev.off()
    emit_vector(case, option, "baujat_x", b$x)
    emit_vector(case, option, "baujat_y", b$y)
    for (model in c("rma", "lm")) for (predictor in c("sei", "ninv")) {
      r <- if (predictor == "ninv") regtest(f, model = model, predictor = predictor, ni = d$n) else regtest(f, model = model, predictor = predictor)
      tag <- paste("regtest", model, predictor, sep = "_")
      emit(case, option, paste0(tag, "_stat"), r$zval)
      emit(case, option, paste0(tag, "_p"), r$pval)
      emit(case, option, paste0(tag, "_df"), if (is.null(r$ddf) || is.na(r$ddf)) Inf else r$ddf)
      emit(case, option, paste0(tag, "_est"), r$est)
      emit(case, option, paste0(tag, "_ci_low"), r$ci.lb)
      emit(case, option, paste0(tag, "_ci_high"), r$ci.ub)
    }
    # trim-and-fill (its refits use the fit's tau^2 method and z tests), every side
    for (side in c("auto", "left", "right")) {
      tf <- if (side == "auto") trimfill(f) else trimfill(f, side = side)
      tag <- paste0("trimfill_", side)
      emit(case, option, paste0(tag, "_k0"), tf$k0)
      emit(case, option, paste0(tag, "_se_k0"), tf$se.k0)
      emit(case, option, paste0(tag, "_right"), as.numeric(tf$side == "right"))
      for (stat in c("b", "se", "ci.lb", "ci.ub", "tau2")) emit(case, option, paste0(tag, "_", stat), tf[[stat]])
      emit_vector(case, option, paste0(tag, "_filled_yi"), tf$yi[tf$fill])
      emit_vector(case, option, paste0(tag, "_filled_vi"), tf$vi[tf$fill])
      emit_vector(case, option, paste0(tag, "_filled_ni"), tf$ni[tf$fill])
    }
    r0 <- trimfill(f, estimator = "R0")
    emit(case, option, "trimfill_R0_k0", r0$k0)
    emit(case, option, "trimfill_R0_b", r0$b)
  }
}

# Kendall's rank correlation of the observed proportions with the sample sizes (normal
# approximation with the tie correction), once per case.
for (case in DIAG_CASES) {
  d <- inputs[inputs$case == case, ]
  ct <- suppressWarnings(cor.test(d$events / d$n, d$n, method = "kendall", exact = FALSE))
  emit(case, "rank", "kendall_tau", ct$estimate)
  emit(case, "rank", "kendall_z", ct$statistic)
  emit(case, "rank", "kendall_p", ct$p.value)
}

# GOSH over every subset (k = 4 and 8 studies): one row per subset, coded as the sum of
# 2^(i - 1) over the studies it includes.
gosh_cases <- list(extreme_heterogeneity = inputs[inputs$case == "extreme_heterogeneity", ],
                   crs_any_first8 = head(inputs[inputs$case == "crs_any", ], 8))
for (case in names(gosh_cases)) {
  d <- gosh_cases[[case]]
  for (o in DIAG_OPTIONS[1:2]) {
    option <- paste(o, collapse = "|")
    g <- gosh(fit(d$events, d$n, MEASURES[[o[1]]], o[2], TESTS[[o[3]]]), progbar = FALSE)
    code <- as.vector(g$incl %*% 2^(seq_len(ncol(g$incl)) - 1))
    emit_vector(case, option, "gosh_code", code)
    emit_vector(case, option, "gosh_estimate", g$res$estimate)
    emit_vector(case, option, "gosh_I2", g$res$I2)
    emit_vector(case, option, "gosh_tau2", g$res$tau2)
    emit_vector(case, option, "gosh_QE", g$res$QE)
  }
}

# Meta-regression: CR on binder origin (factor; R's alphabetical reference level, and
# "murine" by relevel()) and CRS on log sample size (continuous), with z and
# Knapp-Hartung tests.
regressions <- list(
  cr_origin = list(d = inputs[inputs$case == "sub_origin_cr", ], mods = function(d) ~ factor(d$group)),
  cr_origin_murine = list(d = inputs[inputs$case == "sub_origin_cr", ],
                          mods = function(d) ~ relevel(factor(d$group), ref = "murine")),
  crs_logn = list(d = inputs[inputs$case == "crs_any", ], mods = function(d) ~ log(d$n)))
for (case in names(regressions)) {
  d <- regressions[[case]]$d
  for (o in list(c("DL", "z"), c("REML", "hksj"), c("PM", "z"))) {
    option <- paste(c("logit", o), collapse = "|")
    es <- escalc(measure = "PLO", xi = d$events, ni = d$n)
    f <- rma(yi, vi, data = es, mods = regressions[[case]]$mods(d), method = o[1], test = TESTS[[o[2]]])
    emit_vector(case, option, "coef_estimate", f$beta[, 1])
    emit_vector(case, option, "coef_se", f$se)
    emit_vector(case, option, "coef_stat", f$zval)
    emit_vector(case, option, "coef_p", f$pval)
    emit_vector(case, option, "coef_ci_low", f$ci.lb)
    emit_vector(case, option, "coef_ci_high", f$ci.ub)
    for (stat in c("tau2", "I2", "H2", "R2", "QE", "QEp", "QM", "QMp")) emit(case, option, stat, f[[stat]])
  }
}

out <- do.call(rbind, rows)
write.csv(out, file.path(fixtures, "metafor_diagnostics.csv"), row.names = FALSE)
cat(sprintf("wrote %d diagnostic reference values\n", nrow(out)))

# --- heterogeneity: metafor_heterogeneity.csv (case, option, statistic, index, value) ----
# confint(rma(...)): Q-profile intervals for tau^2, tau, I^2 and H^2, with ci.null (the
# interval is {0}) and whether the upper limit is the end of the search ("ub_at_end"), on
# every pooled case with k >= 2 and on random datasets (k = 2..30, some zero-event and
# all-event studies, tau^2 from 0 to 4 on the logit scale) written with their counts to
# heterogeneity_inputs.csv; options "transform|tau2" for logit, Freeman-Tukey and raw
# with DL, REML and PM.
set.seed(20240611)
random_cases <- do.call(rbind, lapply(seq_len(40), function(i) {
  k <- if (i <= 3) c(2, 3, 30)[i] else sample(2:30, 1)
  n <- sample(c(5:60, 100, 500, 2000), k, replace = TRUE)
  logit <- rnorm(1, -1, 1.5) + rnorm(k, 0, sqrt(sample(c(0, 0.05, 0.5, 2, 4), 1)))
  data.frame(case = sprintf("random_%02d", i), events = rbinom(k, n, plogis(logit)), n = n)
}))
write.csv(random_cases, file.path(fixtures, "heterogeneity_inputs.csv"), row.names = FALSE)

rows <- list()
het_cases <- rbind(inputs[!startsWith(inputs$case, "sub_"), c("case", "events", "n")], random_cases)
for (case in unique(het_cases$case)) {
  d <- het_cases[het_cases$case == case, ]
  if (nrow(d) < 2) next
  for (transform in c("logit", "freeman-tukey", "raw")) for (method in c("DL", "REML", "PM")) {
    option <- paste(transform, method, sep = "|")
    warned <- FALSE
    ci <- withCallingHandlers(
      tryCatch(confint(fit(d$events, d$n, MEASURES[[transform]], method)), error = function(e) e),
      warning = function(w) {
        warned <<- TRUE
        invokeRestart("muffleWarning")
      })
    if (warned) emit(case, option, "warning", 1)
    if (inherits(ci, "error")) {
      emit(case, option, "error", 1)
      next
    }
    r <- ci$random
    for (stat in c("tau2", "tau", "i2", "h2")) {
      row <- c(tau2 = "tau^2", tau = "tau", i2 = "I^2(%)", h2 = "H^2")[[stat]]
      emit(case, option, stat, r[row, "estimate"])
      emit(case, option, paste0(stat, "_ci_low"), r[row, "ci.lb"])
      emit(case, option, paste0(stat, "_ci_high"), r[row, "ci.ub"])
    }
    emit(case, option, "ci_null", as.numeric(ci$ci.null))
    emit(case, option, "ub_at_end", as.numeric(ci$ub.sign == ">"))
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(fixtures, "metafor_heterogeneity.csv"), row.names = FALSE)
cat(sprintf("wrote %d heterogeneity reference values\n", nrow(out)))
